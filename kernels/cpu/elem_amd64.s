//go:build amd64

#include "textflag.h"

// AVX2+FMA float32 loops of elementwise.go: eight lanes at a time, then the
// same instructions on one lane for the last n%8 elements, so every element
// gets the same roundings whatever its position.

// func mulF32AVX2(d, x, y *float32, n int)
//
// d[i] = x[i]*y[i]
TEXT ·mulF32AVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX

mulF32AVX2_loop8:
	CMPQ AX, BX
	JGE  mulF32AVX2_tail
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  mulF32AVX2_loop8

mulF32AVX2_tail:
	CMPQ AX, CX
	JGE  mulF32AVX2_done
	VMOVSS (SI)(AX*4), X0
	VMULSS  (DX)(AX*4), X0, X0
	VMOVSS X0, (DI)(AX*4)
	INCQ AX
	JMP  mulF32AVX2_tail

mulF32AVX2_done:
	VZEROUPPER
	RET

// func mulAddF32AVX2(d, x, y *float32, n int)
//
// d[i] = fma(x[i], y[i], d[i]), rounded once
TEXT ·mulAddF32AVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX

mulAddF32AVX2_loop8:
	CMPQ AX, BX
	JGE  mulAddF32AVX2_tail
	VMOVUPS     (DI)(AX*4), Y0
	VMOVUPS     (SI)(AX*4), Y1
	VFMADD231PS (DX)(AX*4), Y1, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  mulAddF32AVX2_loop8

mulAddF32AVX2_tail:
	CMPQ AX, CX
	JGE  mulAddF32AVX2_done
	VMOVSS     (DI)(AX*4), X0
	VMOVSS     (SI)(AX*4), X1
	VFMADD231SS (DX)(AX*4), X1, X0
	VMOVSS     X0, (DI)(AX*4)
	INCQ AX
	JMP  mulAddF32AVX2_tail

mulAddF32AVX2_done:
	VZEROUPPER
	RET

// func mul3AddF32AVX2(d, x, y, z *float32, n int)
//
// d[i] = fma(x[i]*y[i], z[i], d[i]): the product rounded, then the sum
TEXT ·mul3AddF32AVX2(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ z+24(FP), R8
	MOVQ n+32(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX

mul3AddF32AVX2_loop8:
	CMPQ AX, BX
	JGE  mul3AddF32AVX2_tail
	VMOVUPS     (SI)(AX*4), Y1
	VMULPS      (DX)(AX*4), Y1, Y1
	VMOVUPS     (DI)(AX*4), Y0
	VFMADD231PS (R8)(AX*4), Y1, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  mul3AddF32AVX2_loop8

mul3AddF32AVX2_tail:
	CMPQ AX, CX
	JGE  mul3AddF32AVX2_done
	VMOVSS     (SI)(AX*4), X1
	VMULSS      (DX)(AX*4), X1, X1
	VMOVSS     (DI)(AX*4), X0
	VFMADD231SS (R8)(AX*4), X1, X0
	VMOVSS     X0, (DI)(AX*4)
	INCQ AX
	JMP  mul3AddF32AVX2_tail

mul3AddF32AVX2_done:
	VZEROUPPER
	RET

// func addF32AVX2(d, v *float32, n int)
//
// d[i] += v[i]
TEXT ·addF32AVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX

addF32AVX2_loop8:
	CMPQ AX, BX
	JGE  addF32AVX2_tail
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  addF32AVX2_loop8

addF32AVX2_tail:
	CMPQ AX, CX
	JGE  addF32AVX2_done
	VMOVSS (DI)(AX*4), X0
	VADDSS  (SI)(AX*4), X0, X0
	VMOVSS X0, (DI)(AX*4)
	INCQ AX
	JMP  addF32AVX2_tail

addF32AVX2_done:
	VZEROUPPER
	RET

// func addF32ToF64AVX2(d *float64, x *float32, n int)
//
// d[i] += float64(x[i])
TEXT ·addF32ToF64AVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-4, BX

addF32ToF64AVX2_loop4:
	CMPQ AX, BX
	JGE  addF32ToF64AVX2_tail
	VCVTPS2PD (SI)(AX*4), Y1
	VADDPD    (DI)(AX*8), Y1, Y1
	VMOVUPD   Y1, (DI)(AX*8)
	ADDQ $4, AX
	JMP  addF32ToF64AVX2_loop4

addF32ToF64AVX2_tail:
	CMPQ AX, CX
	JGE  addF32ToF64AVX2_done
	VCVTSS2SD (SI)(AX*4), X1, X1
	VADDSD    (DI)(AX*8), X1, X1
	VMOVSD    X1, (DI)(AX*8)
	INCQ AX
	JMP  addF32ToF64AVX2_tail

addF32ToF64AVX2_done:
	VZEROUPPER
	RET

// func dotF32AVX2(p *[8]float64, x, y *float32, n int)
//
// p[j] = sum over i ≡ j (mod 8), i < n, of float64(x[i])*float64(y[i]),
// n a multiple of 8. Each product of two float32 values is exact in
// float64, so the fused multiply-add rounds only the sum, as the Go loop's
// multiply and add do.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	VXORPD Y0, Y0, Y0
	VXORPD Y3, Y3, Y3

dotF32AVX2_loop8:
	CMPQ AX, CX
	JGE  dotF32AVX2_done
	VCVTPS2PD   (SI)(AX*4), Y1
	VCVTPS2PD   16(SI)(AX*4), Y2
	VCVTPS2PD   (DX)(AX*4), Y4
	VCVTPS2PD   16(DX)(AX*4), Y5
	VFMADD231PD Y1, Y4, Y0
	VFMADD231PD Y2, Y5, Y3
	ADDQ $8, AX
	JMP  dotF32AVX2_loop8

dotF32AVX2_done:
	VMOVUPD Y0, (DI)
	VMOVUPD Y3, 32(DI)
	VZEROUPPER
	RET

// func reluF32AVX2(z, a, d1, d2 *float32, n int)
//
// For n a multiple of 8, relu's values without a branch: with gt the lanes
// where z > 0 (ordered: false for NaN) and nan those where z is NaN,
//
//	a = z & (gt|nan), d1 = (1 & gt) | (z & nan), d2 = z & nan
//
// (so a non-positive z, -0 included, gives +0, and a NaN gives itself in
// all three); d1 and d2 are not written when nil.
TEXT ·reluF32AVX2(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ d1+16(FP), R8
	MOVQ d2+24(FP), R9
	MOVQ n+32(FP), CX
	XORQ AX, AX
	VXORPS Y7, Y7, Y7
	MOVL $0x3f800000, DX
	MOVL DX, X6
	VBROADCASTSS X6, Y6

reluF32AVX2_loop8:
	CMPQ AX, CX
	JGE  reluF32AVX2_done
	VMOVUPS (SI)(AX*4), Y0
	VCMPPS  $0x0E, Y7, Y0, Y1 // gt: z > 0
	VCMPPS  $0x03, Y0, Y0, Y2 // nan: z unordered
	VORPS   Y1, Y2, Y3
	VANDPS  Y0, Y3, Y3
	VMOVUPS Y3, (DI)(AX*4)
	VANDPS  Y0, Y2, Y5        // z & nan
	TESTQ   R8, R8
	JZ      reluF32AVX2_d2
	VANDPS  Y6, Y1, Y4
	VORPS   Y5, Y4, Y4
	VMOVUPS Y4, (R8)(AX*4)

reluF32AVX2_d2:
	TESTQ   R9, R9
	JZ      reluF32AVX2_next
	VMOVUPS Y5, (R9)(AX*4)

reluF32AVX2_next:
	ADDQ $8, AX
	JMP  reluF32AVX2_loop8

reluF32AVX2_done:
	VZEROUPPER
	RET
