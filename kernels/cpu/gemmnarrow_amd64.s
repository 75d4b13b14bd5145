//go:build amd64

#include "textflag.h"

// func gemmNarrowF32AVX2(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k int, mask *[16]int32, beta int)
//
// For rows (a multiple of 4) rows i and the columns j < n that mask
// selects (n <= 16: lanes 0-7 of the first half, 8-15 of the second),
// four rows at a time:
//
//	acc := 0; for l < k: acc = fma(a[i*lda+l], b[l*ldb+j], acc)
//	c[i*ldc+j] = acc, or acc + c[i*ldc+j] when beta is 1
TEXT ·gemmNarrowF32AVX2(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), DI
	MOVQ a+16(FP), R12
	MOVQ lda+24(FP), R9
	SHLQ $2, R9              // lda in bytes
	LEAQ (R9)(R9*2), R10     // 3*lda in bytes
	MOVQ ldb+40(FP), AX
	SHLQ $2, AX              // ldb in bytes
	MOVQ rows+48(FP), SI
	MOVQ k+56(FP), DX
	MOVQ mask+64(FP), BX
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
	MOVQ R12, R8             // &a[i*lda+0]
	MOVQ b+32(FP), R11       // b's row 0
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
	ADDQ $4, R8
	ADDQ AX, R11
	DECQ CX
	JNZ  narrow_k

	CMPQ beta+72(FP), $0
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
	LEAQ       (BX)(BX*2), R10    // 3*ldc in bytes (3*lda again below)
	VMASKMOVPS Y0, Y12, (DI)
	VMASKMOVPS Y1, Y13, 32(DI)
	VMASKMOVPS Y2, Y12, (DI)(BX*1)
	VMASKMOVPS Y3, Y13, 32(DI)(BX*1)
	VMASKMOVPS Y4, Y12, (DI)(BX*2)
	VMASKMOVPS Y5, Y13, 32(DI)(BX*2)
	VMASKMOVPS Y6, Y12, (DI)(R10*1)
	VMASKMOVPS Y7, Y13, 32(DI)(R10*1)
	LEAQ (DI)(BX*4), DI      // four rows of c on
	LEAQ (R12)(R9*4), R12    // four rows of a on
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

// func gemmSmallKF32AVX2(c *float32, ldc int, a *float32, lda int, bt *float32, n, n8, m2, k, beta int)
//
// C = A·Bᵀ for a small inner dimension k, from bt = Bᵀ (k×n, rows of n):
// for i < m2 (a multiple of 2) and j < n8 (a multiple of 8),
//
//	acc := 0; for l < k: acc = fma(a[i*lda+l], bt[l*n+j], acc)
//	c[i*ldc+j] = acc, or acc + c[i*ldc+j] when beta is 1
//
// two rows by 32 columns at a time (8 columns at the end of a row), each
// row of c written once.
TEXT ·gemmSmallKF32AVX2(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R9
	SHLQ $2, R9              // ldc in bytes
	MOVQ a+16(FP), R8
	MOVQ lda+24(FP), R10
	SHLQ $2, R10             // lda in bytes
	MOVQ bt+32(FP), BX
	MOVQ n+40(FP), R12
	SHLQ $2, R12             // bt's row in bytes
	MOVQ n8+48(FP), R11
	SHLQ $2, R11             // n8 in bytes
	MOVQ m2+56(FP), SI

smallK_rows:
	CMPQ SI, $2
	JLT  smallK_done
	XORQ DX, DX              // j in bytes

smallK_j32:
	LEAQ 128(DX), AX
	CMPQ AX, R11
	JGT  smallK_j8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ R8, AX              // &a[i*lda+0]
	LEAQ (BX)(DX*1), R13     // &bt[0*n+j]
	MOVQ k+64(FP), CX

smallK_k32:
	VMOVUPS      (R13), Y8
	VMOVUPS      32(R13), Y9
	VMOVUPS      64(R13), Y10
	VMOVUPS      96(R13), Y11
	VBROADCASTSS (AX), Y12
	VFMADD231PS  Y8, Y12, Y0
	VFMADD231PS  Y9, Y12, Y1
	VFMADD231PS  Y10, Y12, Y2
	VFMADD231PS  Y11, Y12, Y3
	VBROADCASTSS (AX)(R10*1), Y13
	VFMADD231PS  Y8, Y13, Y4
	VFMADD231PS  Y9, Y13, Y5
	VFMADD231PS  Y10, Y13, Y6
	VFMADD231PS  Y11, Y13, Y7
	ADDQ $4, AX
	ADDQ R12, R13
	DECQ CX
	JNZ  smallK_k32

	LEAQ (DI)(DX*1), AX      // &c[i*ldc+j]
	CMPQ beta+72(FP), $0
	JEQ  smallK_store32
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3
	VADDPS (AX)(R9*1), Y4, Y4
	VADDPS 32(AX)(R9*1), Y5, Y5
	VADDPS 64(AX)(R9*1), Y6, Y6
	VADDPS 96(AX)(R9*1), Y7, Y7

smallK_store32:
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	VMOVUPS Y4, (AX)(R9*1)
	VMOVUPS Y5, 32(AX)(R9*1)
	VMOVUPS Y6, 64(AX)(R9*1)
	VMOVUPS Y7, 96(AX)(R9*1)
	ADDQ $128, DX
	JMP  smallK_j32

smallK_j8:
	LEAQ 32(DX), AX
	CMPQ AX, R11
	JGT  smallK_nextrows
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	MOVQ R8, AX
	LEAQ (BX)(DX*1), R13
	MOVQ k+64(FP), CX

smallK_k8:
	VMOVUPS      (R13), Y8
	VBROADCASTSS (AX), Y12
	VFMADD231PS  Y8, Y12, Y0
	VBROADCASTSS (AX)(R10*1), Y13
	VFMADD231PS  Y8, Y13, Y4
	ADDQ $4, AX
	ADDQ R12, R13
	DECQ CX
	JNZ  smallK_k8

	LEAQ (DI)(DX*1), AX
	CMPQ beta+72(FP), $0
	JEQ  smallK_store8
	VADDPS (AX), Y0, Y0
	VADDPS (AX)(R9*1), Y4, Y4

smallK_store8:
	VMOVUPS Y0, (AX)
	VMOVUPS Y4, (AX)(R9*1)
	ADDQ $32, DX
	JMP  smallK_j8

smallK_nextrows:
	LEAQ (DI)(R9*2), DI
	LEAQ (R8)(R10*2), R8
	SUBQ $2, SI
	JMP  smallK_rows

smallK_done:
	VZEROUPPER
	RET
