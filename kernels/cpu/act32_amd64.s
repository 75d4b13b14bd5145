//go:build amd64

#include "textflag.h"

// AVX2+FMA twins of tanh32Go, sigmoid32Go and softplus32Go (act32.go): the same
// algorithm, eight float32 lanes at a time, with multiply-adds fused.

// Constants, each broadcast to a 32-byte vector; the names in act32.go follow them.
// absmask: clears the sign bit
DATA absmask<>+0(SB)/4, $0x7fffffff
DATA absmask<>+4(SB)/4, $0x7fffffff
DATA absmask<>+8(SB)/4, $0x7fffffff
DATA absmask<>+12(SB)/4, $0x7fffffff
DATA absmask<>+16(SB)/4, $0x7fffffff
DATA absmask<>+20(SB)/4, $0x7fffffff
DATA absmask<>+24(SB)/4, $0x7fffffff
DATA absmask<>+28(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $32

// signmask: the sign bit
DATA signmask<>+0(SB)/4, $0x80000000
DATA signmask<>+4(SB)/4, $0x80000000
DATA signmask<>+8(SB)/4, $0x80000000
DATA signmask<>+12(SB)/4, $0x80000000
DATA signmask<>+16(SB)/4, $0x80000000
DATA signmask<>+20(SB)/4, $0x80000000
DATA signmask<>+24(SB)/4, $0x80000000
DATA signmask<>+28(SB)/4, $0x80000000
GLOBL signmask<>(SB), RODATA|NOPTR, $32

// one: 1
DATA one<>+0(SB)/4, $0x3f800000
DATA one<>+4(SB)/4, $0x3f800000
DATA one<>+8(SB)/4, $0x3f800000
DATA one<>+12(SB)/4, $0x3f800000
DATA one<>+16(SB)/4, $0x3f800000
DATA one<>+20(SB)/4, $0x3f800000
DATA one<>+24(SB)/4, $0x3f800000
DATA one<>+28(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $32

// two: 2
DATA two<>+0(SB)/4, $0x40000000
DATA two<>+4(SB)/4, $0x40000000
DATA two<>+8(SB)/4, $0x40000000
DATA two<>+12(SB)/4, $0x40000000
DATA two<>+16(SB)/4, $0x40000000
DATA two<>+20(SB)/4, $0x40000000
DATA two<>+24(SB)/4, $0x40000000
DATA two<>+28(SB)/4, $0x40000000
GLOBL two<>(SB), RODATA|NOPTR, $32

// four: 4
DATA four<>+0(SB)/4, $0x40800000
DATA four<>+4(SB)/4, $0x40800000
DATA four<>+8(SB)/4, $0x40800000
DATA four<>+12(SB)/4, $0x40800000
DATA four<>+16(SB)/4, $0x40800000
DATA four<>+20(SB)/4, $0x40800000
DATA four<>+24(SB)/4, $0x40800000
DATA four<>+28(SB)/4, $0x40800000
GLOBL four<>(SB), RODATA|NOPTR, $32

// half: 0.5
DATA half<>+0(SB)/4, $0x3f000000
DATA half<>+4(SB)/4, $0x3f000000
DATA half<>+8(SB)/4, $0x3f000000
DATA half<>+12(SB)/4, $0x3f000000
DATA half<>+16(SB)/4, $0x3f000000
DATA half<>+20(SB)/4, $0x3f000000
DATA half<>+24(SB)/4, $0x3f000000
DATA half<>+28(SB)/4, $0x3f000000
GLOBL half<>(SB), RODATA|NOPTR, $32

// mtwo: -2
DATA mtwo<>+0(SB)/4, $0xc0000000
DATA mtwo<>+4(SB)/4, $0xc0000000
DATA mtwo<>+8(SB)/4, $0xc0000000
DATA mtwo<>+12(SB)/4, $0xc0000000
DATA mtwo<>+16(SB)/4, $0xc0000000
DATA mtwo<>+20(SB)/4, $0xc0000000
DATA mtwo<>+24(SB)/4, $0xc0000000
DATA mtwo<>+28(SB)/4, $0xc0000000
GLOBL mtwo<>(SB), RODATA|NOPTR, $32

// expmin: expMin32
DATA expmin<>+0(SB)/4, $0xc2d00000
DATA expmin<>+4(SB)/4, $0xc2d00000
DATA expmin<>+8(SB)/4, $0xc2d00000
DATA expmin<>+12(SB)/4, $0xc2d00000
DATA expmin<>+16(SB)/4, $0xc2d00000
DATA expmin<>+20(SB)/4, $0xc2d00000
DATA expmin<>+24(SB)/4, $0xc2d00000
DATA expmin<>+28(SB)/4, $0xc2d00000
GLOBL expmin<>(SB), RODATA|NOPTR, $32

// log2e: log2e32
DATA log2e<>+0(SB)/4, $0x3fb8aa3b
DATA log2e<>+4(SB)/4, $0x3fb8aa3b
DATA log2e<>+8(SB)/4, $0x3fb8aa3b
DATA log2e<>+12(SB)/4, $0x3fb8aa3b
DATA log2e<>+16(SB)/4, $0x3fb8aa3b
DATA log2e<>+20(SB)/4, $0x3fb8aa3b
DATA log2e<>+24(SB)/4, $0x3fb8aa3b
DATA log2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL log2e<>(SB), RODATA|NOPTR, $32

// mln2hi: -ln2Hi32
DATA mln2hi<>+0(SB)/4, $0xbf318000
DATA mln2hi<>+4(SB)/4, $0xbf318000
DATA mln2hi<>+8(SB)/4, $0xbf318000
DATA mln2hi<>+12(SB)/4, $0xbf318000
DATA mln2hi<>+16(SB)/4, $0xbf318000
DATA mln2hi<>+20(SB)/4, $0xbf318000
DATA mln2hi<>+24(SB)/4, $0xbf318000
DATA mln2hi<>+28(SB)/4, $0xbf318000
GLOBL mln2hi<>(SB), RODATA|NOPTR, $32

// mln2lo: -ln2Lo32
DATA mln2lo<>+0(SB)/4, $0x395e8083
DATA mln2lo<>+4(SB)/4, $0x395e8083
DATA mln2lo<>+8(SB)/4, $0x395e8083
DATA mln2lo<>+12(SB)/4, $0x395e8083
DATA mln2lo<>+16(SB)/4, $0x395e8083
DATA mln2lo<>+20(SB)/4, $0x395e8083
DATA mln2lo<>+24(SB)/4, $0x395e8083
DATA mln2lo<>+28(SB)/4, $0x395e8083
GLOBL mln2lo<>(SB), RODATA|NOPTR, $32

// expp0: expP0
DATA expp0<>+0(SB)/4, $0x39506967
DATA expp0<>+4(SB)/4, $0x39506967
DATA expp0<>+8(SB)/4, $0x39506967
DATA expp0<>+12(SB)/4, $0x39506967
DATA expp0<>+16(SB)/4, $0x39506967
DATA expp0<>+20(SB)/4, $0x39506967
DATA expp0<>+24(SB)/4, $0x39506967
DATA expp0<>+28(SB)/4, $0x39506967
GLOBL expp0<>(SB), RODATA|NOPTR, $32

// expp1: expP1
DATA expp1<>+0(SB)/4, $0x3ab743ce
DATA expp1<>+4(SB)/4, $0x3ab743ce
DATA expp1<>+8(SB)/4, $0x3ab743ce
DATA expp1<>+12(SB)/4, $0x3ab743ce
DATA expp1<>+16(SB)/4, $0x3ab743ce
DATA expp1<>+20(SB)/4, $0x3ab743ce
DATA expp1<>+24(SB)/4, $0x3ab743ce
DATA expp1<>+28(SB)/4, $0x3ab743ce
GLOBL expp1<>(SB), RODATA|NOPTR, $32

// expp2: expP2
DATA expp2<>+0(SB)/4, $0x3c088908
DATA expp2<>+4(SB)/4, $0x3c088908
DATA expp2<>+8(SB)/4, $0x3c088908
DATA expp2<>+12(SB)/4, $0x3c088908
DATA expp2<>+16(SB)/4, $0x3c088908
DATA expp2<>+20(SB)/4, $0x3c088908
DATA expp2<>+24(SB)/4, $0x3c088908
DATA expp2<>+28(SB)/4, $0x3c088908
GLOBL expp2<>(SB), RODATA|NOPTR, $32

// expp3: expP3
DATA expp3<>+0(SB)/4, $0x3d2aa9c1
DATA expp3<>+4(SB)/4, $0x3d2aa9c1
DATA expp3<>+8(SB)/4, $0x3d2aa9c1
DATA expp3<>+12(SB)/4, $0x3d2aa9c1
DATA expp3<>+16(SB)/4, $0x3d2aa9c1
DATA expp3<>+20(SB)/4, $0x3d2aa9c1
DATA expp3<>+24(SB)/4, $0x3d2aa9c1
DATA expp3<>+28(SB)/4, $0x3d2aa9c1
GLOBL expp3<>(SB), RODATA|NOPTR, $32

// expp4: expP4
DATA expp4<>+0(SB)/4, $0x3e2aaaaa
DATA expp4<>+4(SB)/4, $0x3e2aaaaa
DATA expp4<>+8(SB)/4, $0x3e2aaaaa
DATA expp4<>+12(SB)/4, $0x3e2aaaaa
DATA expp4<>+16(SB)/4, $0x3e2aaaaa
DATA expp4<>+20(SB)/4, $0x3e2aaaaa
DATA expp4<>+24(SB)/4, $0x3e2aaaaa
DATA expp4<>+28(SB)/4, $0x3e2aaaaa
GLOBL expp4<>(SB), RODATA|NOPTR, $32

// expp5: expP5
DATA expp5<>+0(SB)/4, $0x3f000000
DATA expp5<>+4(SB)/4, $0x3f000000
DATA expp5<>+8(SB)/4, $0x3f000000
DATA expp5<>+12(SB)/4, $0x3f000000
DATA expp5<>+16(SB)/4, $0x3f000000
DATA expp5<>+20(SB)/4, $0x3f000000
DATA expp5<>+24(SB)/4, $0x3f000000
DATA expp5<>+28(SB)/4, $0x3f000000
GLOBL expp5<>(SB), RODATA|NOPTR, $32

// bias127: float32 exponent bias (int32)
DATA bias127<>+0(SB)/4, $0x0000007f
DATA bias127<>+4(SB)/4, $0x0000007f
DATA bias127<>+8(SB)/4, $0x0000007f
DATA bias127<>+12(SB)/4, $0x0000007f
DATA bias127<>+16(SB)/4, $0x0000007f
DATA bias127<>+20(SB)/4, $0x0000007f
DATA bias127<>+24(SB)/4, $0x0000007f
DATA bias127<>+28(SB)/4, $0x0000007f
GLOBL bias127<>(SB), RODATA|NOPTR, $32

// tq0: tanhQ0
DATA tq0<>+0(SB)/4, $0xbbbaf0ea
DATA tq0<>+4(SB)/4, $0xbbbaf0ea
DATA tq0<>+8(SB)/4, $0xbbbaf0ea
DATA tq0<>+12(SB)/4, $0xbbbaf0ea
DATA tq0<>+16(SB)/4, $0xbbbaf0ea
DATA tq0<>+20(SB)/4, $0xbbbaf0ea
DATA tq0<>+24(SB)/4, $0xbbbaf0ea
DATA tq0<>+28(SB)/4, $0xbbbaf0ea
GLOBL tq0<>(SB), RODATA|NOPTR, $32

// tq1: tanhQ1
DATA tq1<>+0(SB)/4, $0x3ca9134e
DATA tq1<>+4(SB)/4, $0x3ca9134e
DATA tq1<>+8(SB)/4, $0x3ca9134e
DATA tq1<>+12(SB)/4, $0x3ca9134e
DATA tq1<>+16(SB)/4, $0x3ca9134e
DATA tq1<>+20(SB)/4, $0x3ca9134e
DATA tq1<>+24(SB)/4, $0x3ca9134e
DATA tq1<>+28(SB)/4, $0x3ca9134e
GLOBL tq1<>(SB), RODATA|NOPTR, $32

// tq2: tanhQ2
DATA tq2<>+0(SB)/4, $0xbd5c1e2d
DATA tq2<>+4(SB)/4, $0xbd5c1e2d
DATA tq2<>+8(SB)/4, $0xbd5c1e2d
DATA tq2<>+12(SB)/4, $0xbd5c1e2d
DATA tq2<>+16(SB)/4, $0xbd5c1e2d
DATA tq2<>+20(SB)/4, $0xbd5c1e2d
DATA tq2<>+24(SB)/4, $0xbd5c1e2d
DATA tq2<>+28(SB)/4, $0xbd5c1e2d
GLOBL tq2<>(SB), RODATA|NOPTR, $32

// tq3: tanhQ3
DATA tq3<>+0(SB)/4, $0x3e088393
DATA tq3<>+4(SB)/4, $0x3e088393
DATA tq3<>+8(SB)/4, $0x3e088393
DATA tq3<>+12(SB)/4, $0x3e088393
DATA tq3<>+16(SB)/4, $0x3e088393
DATA tq3<>+20(SB)/4, $0x3e088393
DATA tq3<>+24(SB)/4, $0x3e088393
DATA tq3<>+28(SB)/4, $0x3e088393
GLOBL tq3<>(SB), RODATA|NOPTR, $32

// tq4: tanhQ4
DATA tq4<>+0(SB)/4, $0xbeaaaa99
DATA tq4<>+4(SB)/4, $0xbeaaaa99
DATA tq4<>+8(SB)/4, $0xbeaaaa99
DATA tq4<>+12(SB)/4, $0xbeaaaa99
DATA tq4<>+16(SB)/4, $0xbeaaaa99
DATA tq4<>+20(SB)/4, $0xbeaaaa99
DATA tq4<>+24(SB)/4, $0xbeaaaa99
DATA tq4<>+28(SB)/4, $0xbeaaaa99
GLOBL tq4<>(SB), RODATA|NOPTR, $32

// tsmall: tanhSmall32
DATA tsmall<>+0(SB)/4, $0x3f200000
DATA tsmall<>+4(SB)/4, $0x3f200000
DATA tsmall<>+8(SB)/4, $0x3f200000
DATA tsmall<>+12(SB)/4, $0x3f200000
DATA tsmall<>+16(SB)/4, $0x3f200000
DATA tsmall<>+20(SB)/4, $0x3f200000
DATA tsmall<>+24(SB)/4, $0x3f200000
DATA tsmall<>+28(SB)/4, $0x3f200000
GLOBL tsmall<>(SB), RODATA|NOPTR, $32

// ssmall: 2*tanhSmall32
DATA ssmall<>+0(SB)/4, $0x3fa00000
DATA ssmall<>+4(SB)/4, $0x3fa00000
DATA ssmall<>+8(SB)/4, $0x3fa00000
DATA ssmall<>+12(SB)/4, $0x3fa00000
DATA ssmall<>+16(SB)/4, $0x3fa00000
DATA ssmall<>+20(SB)/4, $0x3fa00000
DATA ssmall<>+24(SB)/4, $0x3fa00000
DATA ssmall<>+28(SB)/4, $0x3fa00000
GLOBL ssmall<>(SB), RODATA|NOPTR, $32

// inv15: 1/15
DATA inv15<>+0(SB)/4, $0x3d888889
DATA inv15<>+4(SB)/4, $0x3d888889
DATA inv15<>+8(SB)/4, $0x3d888889
DATA inv15<>+12(SB)/4, $0x3d888889
DATA inv15<>+16(SB)/4, $0x3d888889
DATA inv15<>+20(SB)/4, $0x3d888889
DATA inv15<>+24(SB)/4, $0x3d888889
DATA inv15<>+28(SB)/4, $0x3d888889
GLOBL inv15<>(SB), RODATA|NOPTR, $32

// inv13: 1/13
DATA inv13<>+0(SB)/4, $0x3d9d89d9
DATA inv13<>+4(SB)/4, $0x3d9d89d9
DATA inv13<>+8(SB)/4, $0x3d9d89d9
DATA inv13<>+12(SB)/4, $0x3d9d89d9
DATA inv13<>+16(SB)/4, $0x3d9d89d9
DATA inv13<>+20(SB)/4, $0x3d9d89d9
DATA inv13<>+24(SB)/4, $0x3d9d89d9
DATA inv13<>+28(SB)/4, $0x3d9d89d9
GLOBL inv13<>(SB), RODATA|NOPTR, $32

// inv11: 1/11
DATA inv11<>+0(SB)/4, $0x3dba2e8c
DATA inv11<>+4(SB)/4, $0x3dba2e8c
DATA inv11<>+8(SB)/4, $0x3dba2e8c
DATA inv11<>+12(SB)/4, $0x3dba2e8c
DATA inv11<>+16(SB)/4, $0x3dba2e8c
DATA inv11<>+20(SB)/4, $0x3dba2e8c
DATA inv11<>+24(SB)/4, $0x3dba2e8c
DATA inv11<>+28(SB)/4, $0x3dba2e8c
GLOBL inv11<>(SB), RODATA|NOPTR, $32

// inv9: 1/9
DATA inv9<>+0(SB)/4, $0x3de38e39
DATA inv9<>+4(SB)/4, $0x3de38e39
DATA inv9<>+8(SB)/4, $0x3de38e39
DATA inv9<>+12(SB)/4, $0x3de38e39
DATA inv9<>+16(SB)/4, $0x3de38e39
DATA inv9<>+20(SB)/4, $0x3de38e39
DATA inv9<>+24(SB)/4, $0x3de38e39
DATA inv9<>+28(SB)/4, $0x3de38e39
GLOBL inv9<>(SB), RODATA|NOPTR, $32

// inv7: 1/7
DATA inv7<>+0(SB)/4, $0x3e124925
DATA inv7<>+4(SB)/4, $0x3e124925
DATA inv7<>+8(SB)/4, $0x3e124925
DATA inv7<>+12(SB)/4, $0x3e124925
DATA inv7<>+16(SB)/4, $0x3e124925
DATA inv7<>+20(SB)/4, $0x3e124925
DATA inv7<>+24(SB)/4, $0x3e124925
DATA inv7<>+28(SB)/4, $0x3e124925
GLOBL inv7<>(SB), RODATA|NOPTR, $32

// inv5: 1/5
DATA inv5<>+0(SB)/4, $0x3e4ccccd
DATA inv5<>+4(SB)/4, $0x3e4ccccd
DATA inv5<>+8(SB)/4, $0x3e4ccccd
DATA inv5<>+12(SB)/4, $0x3e4ccccd
DATA inv5<>+16(SB)/4, $0x3e4ccccd
DATA inv5<>+20(SB)/4, $0x3e4ccccd
DATA inv5<>+24(SB)/4, $0x3e4ccccd
DATA inv5<>+28(SB)/4, $0x3e4ccccd
GLOBL inv5<>(SB), RODATA|NOPTR, $32

// inv3: 1/3
DATA inv3<>+0(SB)/4, $0x3eaaaaab
DATA inv3<>+4(SB)/4, $0x3eaaaaab
DATA inv3<>+8(SB)/4, $0x3eaaaaab
DATA inv3<>+12(SB)/4, $0x3eaaaaab
DATA inv3<>+16(SB)/4, $0x3eaaaaab
DATA inv3<>+20(SB)/4, $0x3eaaaaab
DATA inv3<>+24(SB)/4, $0x3eaaaaab
DATA inv3<>+28(SB)/4, $0x3eaaaaab
GLOBL inv3<>(SB), RODATA|NOPTR, $32
// EXPNEG sets Y5 = exp(Y2) for Y2 <= 0 or NaN, as exp32: Y15 holds expmin,
// Y14 holds 1. It clobbers Y2-Y4 and Y6-Y9. VMAXPS returns its last Plan 9
// operand (Intel's second source) when either is NaN, so NaN flows on.
#define EXPNEG \
	VMAXPS      Y2, Y15, Y2       \
	VMULPS      log2e<>(SB), Y2, Y3 \
	VROUNDPS    $0, Y3, Y3        \
	VMOVAPS     Y2, Y4            \
	VFMADD231PS mln2hi<>(SB), Y3, Y4 \
	VFMADD231PS mln2lo<>(SB), Y3, Y4 \
	VMOVUPS     expp0<>(SB), Y5   \
	VFMADD213PS expp1<>(SB), Y4, Y5 \
	VFMADD213PS expp2<>(SB), Y4, Y5 \
	VFMADD213PS expp3<>(SB), Y4, Y5 \
	VFMADD213PS expp4<>(SB), Y4, Y5 \
	VFMADD213PS expp5<>(SB), Y4, Y5 \
	VMULPS      Y4, Y4, Y6        \
	VFMADD213PS Y4, Y6, Y5        \
	VADDPS      Y14, Y5, Y5       \
	VCVTPS2DQ   Y3, Y7            \
	VPSRAD      $1, Y7, Y8        \
	VPSUBD      Y8, Y7, Y9        \
	VPADDD      bias127<>(SB), Y8, Y8 \
	VPADDD      bias127<>(SB), Y9, Y9 \
	VPSLLD      $23, Y8, Y8       \
	VPSLLD      $23, Y9, Y9       \
	VMULPS      Y8, Y5, Y5        \
	VMULPS      Y9, Y5, Y5

// RECIP sets Y10 = 1/(1 + Y5) to within about half an ulp: the rounding
// error of h = 1 + e (lo, exact by Fast2Sum) and of the division are
// corrected by one Newton step with fused multiply-adds. Y14 holds 1; it
// clobbers Y2 and Y6.
#define RECIP \
	VADDPS       Y14, Y5, Y6      \
	VSUBPS       Y14, Y6, Y2      \
	VSUBPS       Y2, Y5, Y2       \
	VDIVPS       Y6, Y14, Y10     \
	VFNMADD213PS Y14, Y10, Y6     \
	VFNMADD231PS Y2, Y10, Y6      \
	VFMADD231PS  Y6, Y10, Y10

// TANHPOLY sets Y4 = tanhPoly32(X) for X in register x, using Y3 and Y8.
#define TANHPOLY(x) \
	VMULPS      x, x, Y3          \
	VMOVUPS     tq0<>(SB), Y4     \
	VFMADD213PS tq1<>(SB), Y3, Y4 \
	VFMADD213PS tq2<>(SB), Y3, Y4 \
	VFMADD213PS tq3<>(SB), Y3, Y4 \
	VFMADD213PS tq4<>(SB), Y3, Y4 \
	VMULPS      Y3, x, Y8         \
	VFMADD213PS x, Y8, Y4

// func tanh32AVX2(z, a, d1, d2 *float32, n int)
TEXT ·tanh32AVX2(SB), NOSPLIT, $0-40
	MOVQ    z+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    d1+16(FP), DX
	MOVQ    d2+24(FP), R8
	MOVQ    n+32(FP), CX
	VMOVUPS expmin<>(SB), Y15
	VMOVUPS one<>(SB), Y14
	XORQ    AX, AX

tanhloop:
	CMPQ AX, CX
	JGE  tanhdone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS  absmask<>(SB), Y0, Y1 // |x|
	VMULPS  mtwo<>(SB), Y1, Y2    // -2|x|
	EXPNEG                        // Y5 = e
	RECIP                         // Y10 = r = 1/(1+e)
	VSUBPS  Y5, Y14, Y11
	VMULPS  Y10, Y11, Y11         // (1-e)r
	VMULPS  Y10, Y5, Y12
	VMULPS  Y10, Y12, Y12
	VMULPS  four<>(SB), Y12, Y12  // s' = 4(e r r)
	TANHPOLY(Y1)                  // Y4 = tanhPoly32(|x|)
	VCMPPS    $1, tsmall<>(SB), Y1, Y7 // |x| < tanhSmall32
	VBLENDVPS Y7, Y4, Y11, Y11    // tanh |x|
	VANDPS    signmask<>(SB), Y0, Y2
	VORPS     Y2, Y11, Y11        // t, with the sign of x
	VMOVUPS   Y11, (DI)(AX*4)
	TESTQ     DX, DX
	JZ        tanhnod1
	VMOVUPS   Y12, (DX)(AX*4)

tanhnod1:
	TESTQ   R8, R8
	JZ      tanhnod2
	VMULPS  mtwo<>(SB), Y11, Y13
	VMULPS  Y12, Y13, Y13         // s" = (-2t)s'
	VMOVUPS Y13, (R8)(AX*4)

tanhnod2:
	ADDQ $8, AX
	JMP  tanhloop

tanhdone:
	VZEROUPPER
	RET

// func sigmoid32AVX2(z, a, d1, d2 *float32, n int)
TEXT ·sigmoid32AVX2(SB), NOSPLIT, $0-40
	MOVQ    z+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    d1+16(FP), DX
	MOVQ    d2+24(FP), R8
	MOVQ    n+32(FP), CX
	VMOVUPS expmin<>(SB), Y15
	VMOVUPS one<>(SB), Y14
	XORQ    AX, AX

sigloop:
	CMPQ AX, CX
	JGE  sigdone
	VMOVUPS   (SI)(AX*4), Y0
	VANDPS    absmask<>(SB), Y0, Y1 // |x|
	VORPS     signmask<>(SB), Y0, Y2 // -|x|
	EXPNEG                          // Y5 = e
	RECIP                           // Y10 = r = 1/(1+e) = σ(|x|)
	VMULPS    Y10, Y5, Y11          // e r = σ(-|x|)
	VBLENDVPS Y0, Y11, Y10, Y12     // s: e r where x has its sign bit set
	VMOVUPS   Y12, (DI)(AX*4)
	VMULPS    Y10, Y11, Y13         // s' = (e r) r
	TESTQ     DX, DX
	JZ        signod1
	VMOVUPS   Y13, (DX)(AX*4)

signod1:
	TESTQ     R8, R8
	JZ        signod2
	VSUBPS    Y5, Y14, Y6
	VMULPS    Y10, Y6, Y6           // (1-e)r = tanh(|x|/2) for |x| >= 1.25
	VMULPS    half<>(SB), Y1, Y7
	TANHPOLY(Y7)                    // Y4 = tanhPoly32(|x|/2)
	VCMPPS    $1, ssmall<>(SB), Y1, Y9
	VBLENDVPS Y9, Y4, Y6, Y6        // tanh(|x|/2)
	VANDPS    signmask<>(SB), Y0, Y2
	VORPS     Y2, Y6, Y6            // tanh(x/2)
	VXORPS    signmask<>(SB), Y13, Y13
	VMULPS    Y13, Y6, Y6           // s" = (-s') tanh(x/2)
	VMOVUPS   Y6, (R8)(AX*4)

signod2:
	ADDQ $8, AX
	JMP  sigloop

sigdone:
	VZEROUPPER
	RET

// func softplus32AVX2(z, a, d1, d2 *float32, n int)
TEXT ·softplus32AVX2(SB), NOSPLIT, $0-40
	MOVQ    z+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    d1+16(FP), DX
	MOVQ    d2+24(FP), R8
	MOVQ    n+32(FP), CX
	VMOVUPS expmin<>(SB), Y15
	VMOVUPS one<>(SB), Y14
	XORQ    AX, AX

sploop:
	CMPQ AX, CX
	JGE  spdone
	VMOVUPS     (SI)(AX*4), Y0
	VORPS       signmask<>(SB), Y0, Y2 // -|x|
	EXPNEG                             // Y5 = e
	RECIP                              // Y10 = r = 1/(1+e)
	VMULPS      Y10, Y5, Y11           // e r
	VADDPS      two<>(SB), Y5, Y6
	VDIVPS      Y6, Y5, Y6             // u = e/(2+e)
	VMULPS      Y6, Y6, Y7             // w = u²
	VMOVUPS     inv15<>(SB), Y4
	VFMADD213PS inv13<>(SB), Y7, Y4
	VFMADD213PS inv11<>(SB), Y7, Y4
	VFMADD213PS inv9<>(SB), Y7, Y4
	VFMADD213PS inv7<>(SB), Y7, Y4
	VFMADD213PS inv5<>(SB), Y7, Y4
	VFMADD213PS inv3<>(SB), Y7, Y4
	VFMADD213PS Y14, Y7, Y4
	VADDPS      Y6, Y6, Y6
	VMULPS      Y4, Y6, Y6             // log1p(e) = (2u)p
	VXORPS      Y3, Y3, Y3
	VMAXPS      Y0, Y3, Y7             // max(x, 0), NaN kept
	VADDPS      Y6, Y7, Y7
	VMOVUPS     Y7, (DI)(AX*4)
	TESTQ       DX, DX
	JZ          spnod1
	VBLENDVPS   Y0, Y11, Y10, Y12      // s' = σ(x)
	VMOVUPS     Y12, (DX)(AX*4)

spnod1:
	TESTQ   R8, R8
	JZ      spnod2
	VMULPS  Y10, Y11, Y13              // s" = (e r) r
	VMOVUPS Y13, (R8)(AX*4)

spnod2:
	ADDQ $8, AX
	JMP  sploop

spdone:
	VZEROUPPER
	RET
