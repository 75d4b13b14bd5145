//go:build amd64

#include "textflag.h"

// func gemmNarrowF32AVX2(c *float32, ldc int, a *float32, sI, sK int, b *float32, ldb int, rows, k int, mask *[16]int32, beta int)
//
// For rows (a multiple of 4) rows i and the columns j < n that mask
// selects (n <= 16: lanes 0-7 of the first half, 8-15 of the second),
// four rows at a time:
//
//	acc := 0; for l < k: acc = fma(A(i,l), b[l*ldb+j], acc)
//	c[i*ldc+j] = acc, or acc + c[i*ldc+j] when beta is 1
//
// with A(i,l) = a[i*sI+l*sK] (strides in elements): a row-major A has
// sI = lda, sK = 1, a transposed one sI = 1, sK = lda.
TEXT ·gemmNarrowF32AVX2(SB), NOSPLIT, $0-88
	MOVQ c+0(FP), DI
	MOVQ a+16(FP), R12
	MOVQ sI+24(FP), R9
	SHLQ $2, R9              // sI in bytes
	LEAQ (R9)(R9*2), R10     // 3*sI in bytes
	MOVQ sK+32(FP), R13
	SHLQ $2, R13             // sK in bytes
	MOVQ ldb+48(FP), AX
	SHLQ $2, AX              // ldb in bytes
	MOVQ rows+56(FP), SI
	MOVQ k+64(FP), DX
	MOVQ mask+72(FP), BX
	VMOVDQU (BX), Y12
	VMOVDQU 32(BX), Y13
	MOVQ ldc+8(FP), BX
	SHLQ $2, BX              // ldc in bytes

narrow_rows:
	CMPQ SI, $0
	JLE  narrow_done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ R12, R8             // A(i, 0)
	MOVQ b+40(FP), R11       // b's row 0
	MOVQ DX, CX

narrow_k:
	VMASKMOVPS   (R11), Y12, Y8
	VMASKMOVPS   32(R11), Y13, Y9
	VBROADCASTSS (R8), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R8)(R9*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R8)(R9*2), Y10
	VFMADD231PS  Y8, Y10, Y4
	VFMADD231PS  Y9, Y10, Y5
	VBROADCASTSS (R8)(R10*1), Y11
	VFMADD231PS  Y8, Y11, Y6
	VFMADD231PS  Y9, Y11, Y7
	ADDQ R13, R8
	ADDQ AX, R11
	DECQ CX
	JNZ  narrow_k

	CMPQ beta+80(FP), $0
	JEQ  narrow_store
	VMASKMOVPS (DI), Y12, Y8
	VMASKMOVPS 32(DI), Y13, Y9
	VADDPS     Y8, Y0, Y0
	VADDPS     Y9, Y1, Y1
	VMASKMOVPS (DI)(BX*1), Y12, Y8
	VMASKMOVPS 32(DI)(BX*1), Y13, Y9
	VADDPS     Y8, Y2, Y2
	VADDPS     Y9, Y3, Y3
	VMASKMOVPS (DI)(BX*2), Y12, Y8
	VMASKMOVPS 32(DI)(BX*2), Y13, Y9
	VADDPS     Y8, Y4, Y4
	VADDPS     Y9, Y5, Y5
	LEAQ       (BX)(BX*2), R10
	VMASKMOVPS (DI)(R10*1), Y12, Y8
	VMASKMOVPS 32(DI)(R10*1), Y13, Y9
	VADDPS     Y8, Y6, Y6
	VADDPS     Y9, Y7, Y7

narrow_store:
	LEAQ       (BX)(BX*2), R10    // 3*ldc in bytes (3*sI again below)
	VMASKMOVPS Y0, Y12, (DI)
	VMASKMOVPS Y1, Y13, 32(DI)
	VMASKMOVPS Y2, Y12, (DI)(BX*1)
	VMASKMOVPS Y3, Y13, 32(DI)(BX*1)
	VMASKMOVPS Y4, Y12, (DI)(BX*2)
	VMASKMOVPS Y5, Y13, 32(DI)(BX*2)
	VMASKMOVPS Y6, Y12, (DI)(R10*1)
	VMASKMOVPS Y7, Y13, 32(DI)(R10*1)
	LEAQ (DI)(BX*4), DI      // four rows of c on
	LEAQ (R12)(R9*4), R12    // four rows of A on
	LEAQ (R9)(R9*2), R10
	SUBQ $4, SI
	JMP  narrow_rows

narrow_done:
	VZEROUPPER
	RET

// func gemmNarrowTF32AVX2(ct *float32, a *float32, lda int, b *float32, ldb, n, m16, k4 int)
//
// The transposed-A case, computed transposed, for i < m16 (a multiple of
// 16), j < n and l < k4 (a multiple of 4):
//
//	for l < k4: ct[j*m16+i] = fma(a[l*lda+i], b[l*ldb+j], ct[j*m16+i])
//
// Four rows of a at a time, sixteen columns (one cache line of each row) by
// one column of ct at a time: a is read row by row, whole lines, once, and
// ct (n×m16) stays in cache; each element of ct is one chain over l in
// order, from its value on entry.
TEXT ·gemmNarrowTF32AVX2(SB), NOSPLIT, $0-64
	MOVQ ct+0(FP), DI
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), R9
	SHLQ $2, R9              // lda in bytes
	LEAQ (R9)(R9*2), R10     // 3*lda
	MOVQ b+24(FP), R11
	MOVQ ldb+32(FP), R12
	SHLQ $2, R12             // ldb in bytes
	LEAQ (R12)(R12*2), R13   // 3*ldb
	MOVQ n+40(FP), CX
	SHLQ $2, CX
	MOVQ CX, n+40(FP)        // n in bytes from here on
	MOVQ m16+48(FP), DX
	SHLQ $2, DX              // m16 in bytes: ct's row

narrowT_l:
	CMPQ k4+56(FP), $0
	JLE  narrowT_done
	MOVQ n+40(FP), CX
	ADDQ R11, CX             // end of b's row l, over j
	XORQ SI, SI              // i in bytes

narrowT_i:
	CMPQ SI, DX
	JGE  narrowT_nextl
	LEAQ    (R8)(SI*1), AX   // &a[l*lda+i]
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS (AX)(R9*1), Y2
	VMOVUPS 32(AX)(R9*1), Y3
	VMOVUPS (AX)(R9*2), Y4
	VMOVUPS 32(AX)(R9*2), Y5
	VMOVUPS (AX)(R10*1), Y6
	VMOVUPS 32(AX)(R10*1), Y7
	LEAQ    (DI)(SI*1), AX   // &ct[0*m16+i]
	MOVQ    R11, BX          // &b[l*ldb+0]

narrowT_j:
	CMPQ BX, CX
	JGE  narrowT_nexti
	VMOVUPS      (AX), Y8
	VMOVUPS      32(AX), Y9
	VBROADCASTSS (BX), Y10
	VFMADD231PS  Y0, Y10, Y8
	VFMADD231PS  Y1, Y10, Y9
	VBROADCASTSS (BX)(R12*1), Y11
	VFMADD231PS  Y2, Y11, Y8
	VFMADD231PS  Y3, Y11, Y9
	VBROADCASTSS (BX)(R12*2), Y10
	VFMADD231PS  Y4, Y10, Y8
	VFMADD231PS  Y5, Y10, Y9
	VBROADCASTSS (BX)(R13*1), Y11
	VFMADD231PS  Y6, Y11, Y8
	VFMADD231PS  Y7, Y11, Y9
	VMOVUPS      Y8, (AX)
	VMOVUPS      Y9, 32(AX)
	ADDQ $4, BX
	ADDQ DX, AX
	JMP  narrowT_j

narrowT_nexti:
	ADDQ $64, SI
	JMP  narrowT_i

narrowT_nextl:
	LEAQ (R8)(R9*4), R8
	LEAQ (R11)(R12*4), R11
	SUBQ $4, k4+56(FP)
	JMP  narrowT_l

narrowT_done:
	VZEROUPPER
	RET
