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
// m20: -geluClamp
DATA m20<>+0(SB)/4, $0xc1a00000
DATA m20<>+4(SB)/4, $0xc1a00000
DATA m20<>+8(SB)/4, $0xc1a00000
DATA m20<>+12(SB)/4, $0xc1a00000
DATA m20<>+16(SB)/4, $0xc1a00000
DATA m20<>+20(SB)/4, $0xc1a00000
DATA m20<>+24(SB)/4, $0xc1a00000
DATA m20<>+28(SB)/4, $0xc1a00000
GLOBL m20<>(SB), RODATA|NOPTR, $32

// p20: geluClamp
DATA p20<>+0(SB)/4, $0x41a00000
DATA p20<>+4(SB)/4, $0x41a00000
DATA p20<>+8(SB)/4, $0x41a00000
DATA p20<>+12(SB)/4, $0x41a00000
DATA p20<>+16(SB)/4, $0x41a00000
DATA p20<>+20(SB)/4, $0x41a00000
DATA p20<>+24(SB)/4, $0x41a00000
DATA p20<>+28(SB)/4, $0x41a00000
GLOBL p20<>(SB), RODATA|NOPTR, $32

// mhalf: -0.5
DATA mhalf<>+0(SB)/4, $0xbf000000
DATA mhalf<>+4(SB)/4, $0xbf000000
DATA mhalf<>+8(SB)/4, $0xbf000000
DATA mhalf<>+12(SB)/4, $0xbf000000
DATA mhalf<>+16(SB)/4, $0xbf000000
DATA mhalf<>+20(SB)/4, $0xbf000000
DATA mhalf<>+24(SB)/4, $0xbf000000
DATA mhalf<>+28(SB)/4, $0xbf000000
GLOBL mhalf<>(SB), RODATA|NOPTR, $32

// gexpmin: expMin32 - 64 ln2
DATA gexpmin<>+0(SB)/4, $0xc3145c86
DATA gexpmin<>+4(SB)/4, $0xc3145c86
DATA gexpmin<>+8(SB)/4, $0xc3145c86
DATA gexpmin<>+12(SB)/4, $0xc3145c86
DATA gexpmin<>+16(SB)/4, $0xc3145c86
DATA gexpmin<>+20(SB)/4, $0xc3145c86
DATA gexpmin<>+24(SB)/4, $0xc3145c86
DATA gexpmin<>+28(SB)/4, $0xc3145c86
GLOBL gexpmin<>(SB), RODATA|NOPTR, $32

// i64: 64 (int32)
DATA i64<>+0(SB)/4, $0x00000040
DATA i64<>+4(SB)/4, $0x00000040
DATA i64<>+8(SB)/4, $0x00000040
DATA i64<>+12(SB)/4, $0x00000040
DATA i64<>+16(SB)/4, $0x00000040
DATA i64<>+20(SB)/4, $0x00000040
DATA i64<>+24(SB)/4, $0x00000040
DATA i64<>+28(SB)/4, $0x00000040
GLOBL i64<>(SB), RODATA|NOPTR, $32

// isqrt2: invSqrt2f
DATA isqrt2<>+0(SB)/4, $0x3f3504f3
DATA isqrt2<>+4(SB)/4, $0x3f3504f3
DATA isqrt2<>+8(SB)/4, $0x3f3504f3
DATA isqrt2<>+12(SB)/4, $0x3f3504f3
DATA isqrt2<>+16(SB)/4, $0x3f3504f3
DATA isqrt2<>+20(SB)/4, $0x3f3504f3
DATA isqrt2<>+24(SB)/4, $0x3f3504f3
DATA isqrt2<>+28(SB)/4, $0x3f3504f3
GLOBL isqrt2<>(SB), RODATA|NOPTR, $32

// isqrt2pi: invSqrt2Pif
DATA isqrt2pi<>+0(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+4(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+8(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+12(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+16(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+20(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+24(SB)/4, $0x3ecc422a
DATA isqrt2pi<>+28(SB)/4, $0x3ecc422a
GLOBL isqrt2pi<>(SB), RODATA|NOPTR, $32

// gtc: geluTc
DATA gtc<>+0(SB)/4, $0x3f155555
DATA gtc<>+4(SB)/4, $0x3f155555
DATA gtc<>+8(SB)/4, $0x3f155555
DATA gtc<>+12(SB)/4, $0x3f155555
DATA gtc<>+16(SB)/4, $0x3f155555
DATA gtc<>+20(SB)/4, $0x3f155555
DATA gtc<>+24(SB)/4, $0x3f155555
DATA gtc<>+28(SB)/4, $0x3f155555
GLOBL gtc<>(SB), RODATA|NOPTR, $32

// ginvh: geluInvH
DATA ginvh<>+0(SB)/4, $0x4019999a
DATA ginvh<>+4(SB)/4, $0x4019999a
DATA ginvh<>+8(SB)/4, $0x4019999a
DATA ginvh<>+12(SB)/4, $0x4019999a
DATA ginvh<>+16(SB)/4, $0x4019999a
DATA ginvh<>+20(SB)/4, $0x4019999a
DATA ginvh<>+24(SB)/4, $0x4019999a
DATA ginvh<>+28(SB)/4, $0x4019999a
GLOBL ginvh<>(SB), RODATA|NOPTR, $32

// p2p64: 2^64
DATA p2p64<>+0(SB)/4, $0x5f800000
DATA p2p64<>+4(SB)/4, $0x5f800000
DATA p2p64<>+8(SB)/4, $0x5f800000
DATA p2p64<>+12(SB)/4, $0x5f800000
DATA p2p64<>+16(SB)/4, $0x5f800000
DATA p2p64<>+20(SB)/4, $0x5f800000
DATA p2p64<>+24(SB)/4, $0x5f800000
DATA p2p64<>+28(SB)/4, $0x5f800000
GLOBL p2p64<>(SB), RODATA|NOPTR, $32

// p2m64: 2^-64
DATA p2m64<>+0(SB)/4, $0x1f800000
DATA p2m64<>+4(SB)/4, $0x1f800000
DATA p2m64<>+8(SB)/4, $0x1f800000
DATA p2m64<>+12(SB)/4, $0x1f800000
DATA p2m64<>+16(SB)/4, $0x1f800000
DATA p2m64<>+20(SB)/4, $0x1f800000
DATA p2m64<>+24(SB)/4, $0x1f800000
DATA p2m64<>+28(SB)/4, $0x1f800000
GLOBL p2m64<>(SB), RODATA|NOPTR, $32

// gg0: geluG[0]
DATA gg0<>+0(SB)/4, $0x36ab75ec
DATA gg0<>+4(SB)/4, $0x36ab75ec
DATA gg0<>+8(SB)/4, $0x36ab75ec
DATA gg0<>+12(SB)/4, $0x36ab75ec
DATA gg0<>+16(SB)/4, $0x36ab75ec
DATA gg0<>+20(SB)/4, $0x36ab75ec
DATA gg0<>+24(SB)/4, $0x36ab75ec
DATA gg0<>+28(SB)/4, $0x36ab75ec
GLOBL gg0<>(SB), RODATA|NOPTR, $32

// gg1: geluG[1]
DATA gg1<>+0(SB)/4, $0x36dc8934
DATA gg1<>+4(SB)/4, $0x36dc8934
DATA gg1<>+8(SB)/4, $0x36dc8934
DATA gg1<>+12(SB)/4, $0x36dc8934
DATA gg1<>+16(SB)/4, $0x36dc8934
DATA gg1<>+20(SB)/4, $0x36dc8934
DATA gg1<>+24(SB)/4, $0x36dc8934
DATA gg1<>+28(SB)/4, $0x36dc8934
GLOBL gg1<>(SB), RODATA|NOPTR, $32

// gg2: geluG[2]
DATA gg2<>+0(SB)/4, $0xb889e54f
DATA gg2<>+4(SB)/4, $0xb889e54f
DATA gg2<>+8(SB)/4, $0xb889e54f
DATA gg2<>+12(SB)/4, $0xb889e54f
DATA gg2<>+16(SB)/4, $0xb889e54f
DATA gg2<>+20(SB)/4, $0xb889e54f
DATA gg2<>+24(SB)/4, $0xb889e54f
DATA gg2<>+28(SB)/4, $0xb889e54f
GLOBL gg2<>(SB), RODATA|NOPTR, $32

// gg3: geluG[3]
DATA gg3<>+0(SB)/4, $0x36a52b3c
DATA gg3<>+4(SB)/4, $0x36a52b3c
DATA gg3<>+8(SB)/4, $0x36a52b3c
DATA gg3<>+12(SB)/4, $0x36a52b3c
DATA gg3<>+16(SB)/4, $0x36a52b3c
DATA gg3<>+20(SB)/4, $0x36a52b3c
DATA gg3<>+24(SB)/4, $0x36a52b3c
DATA gg3<>+28(SB)/4, $0x36a52b3c
GLOBL gg3<>(SB), RODATA|NOPTR, $32

// gg4: geluG[4]
DATA gg4<>+0(SB)/4, $0x3a1c3a51
DATA gg4<>+4(SB)/4, $0x3a1c3a51
DATA gg4<>+8(SB)/4, $0x3a1c3a51
DATA gg4<>+12(SB)/4, $0x3a1c3a51
DATA gg4<>+16(SB)/4, $0x3a1c3a51
DATA gg4<>+20(SB)/4, $0x3a1c3a51
DATA gg4<>+24(SB)/4, $0x3a1c3a51
DATA gg4<>+28(SB)/4, $0x3a1c3a51
GLOBL gg4<>(SB), RODATA|NOPTR, $32

// gg5: geluG[5]
DATA gg5<>+0(SB)/4, $0xba227c7f
DATA gg5<>+4(SB)/4, $0xba227c7f
DATA gg5<>+8(SB)/4, $0xba227c7f
DATA gg5<>+12(SB)/4, $0xba227c7f
DATA gg5<>+16(SB)/4, $0xba227c7f
DATA gg5<>+20(SB)/4, $0xba227c7f
DATA gg5<>+24(SB)/4, $0xba227c7f
DATA gg5<>+28(SB)/4, $0xba227c7f
GLOBL gg5<>(SB), RODATA|NOPTR, $32

// gg6: geluG[6]
DATA gg6<>+0(SB)/4, $0xbbc9a84c
DATA gg6<>+4(SB)/4, $0xbbc9a84c
DATA gg6<>+8(SB)/4, $0xbbc9a84c
DATA gg6<>+12(SB)/4, $0xbbc9a84c
DATA gg6<>+16(SB)/4, $0xbbc9a84c
DATA gg6<>+20(SB)/4, $0xbbc9a84c
DATA gg6<>+24(SB)/4, $0xbbc9a84c
DATA gg6<>+28(SB)/4, $0xbbc9a84c
GLOBL gg6<>(SB), RODATA|NOPTR, $32

// gg7: geluG[7]
DATA gg7<>+0(SB)/4, $0x3bc36429
DATA gg7<>+4(SB)/4, $0x3bc36429
DATA gg7<>+8(SB)/4, $0x3bc36429
DATA gg7<>+12(SB)/4, $0x3bc36429
DATA gg7<>+16(SB)/4, $0x3bc36429
DATA gg7<>+20(SB)/4, $0x3bc36429
DATA gg7<>+24(SB)/4, $0x3bc36429
DATA gg7<>+28(SB)/4, $0x3bc36429
GLOBL gg7<>(SB), RODATA|NOPTR, $32

// gg8: geluG[8]
DATA gg8<>+0(SB)/4, $0x3dd0f4fd
DATA gg8<>+4(SB)/4, $0x3dd0f4fd
DATA gg8<>+8(SB)/4, $0x3dd0f4fd
DATA gg8<>+12(SB)/4, $0x3dd0f4fd
DATA gg8<>+16(SB)/4, $0x3dd0f4fd
DATA gg8<>+20(SB)/4, $0x3dd0f4fd
DATA gg8<>+24(SB)/4, $0x3dd0f4fd
DATA gg8<>+28(SB)/4, $0x3dd0f4fd
GLOBL gg8<>(SB), RODATA|NOPTR, $32

// gg9: geluG[9]
DATA gg9<>+0(SB)/4, $0x3ea706a3
DATA gg9<>+4(SB)/4, $0x3ea706a3
DATA gg9<>+8(SB)/4, $0x3ea706a3
DATA gg9<>+12(SB)/4, $0x3ea706a3
DATA gg9<>+16(SB)/4, $0x3ea706a3
DATA gg9<>+20(SB)/4, $0x3ea706a3
DATA gg9<>+24(SB)/4, $0x3ea706a3
DATA gg9<>+28(SB)/4, $0x3ea706a3
GLOBL gg9<>(SB), RODATA|NOPTR, $32

// gg10: geluG[10]
DATA gg10<>+0(SB)/4, $0x3f126f60
DATA gg10<>+4(SB)/4, $0x3f126f60
DATA gg10<>+8(SB)/4, $0x3f126f60
DATA gg10<>+12(SB)/4, $0x3f126f60
DATA gg10<>+16(SB)/4, $0x3f126f60
DATA gg10<>+20(SB)/4, $0x3f126f60
DATA gg10<>+24(SB)/4, $0x3f126f60
DATA gg10<>+28(SB)/4, $0x3f126f60
GLOBL gg10<>(SB), RODATA|NOPTR, $32

// ge0: geluErf[0]
DATA ge0<>+0(SB)/4, $0x38a4b519
DATA ge0<>+4(SB)/4, $0x38a4b519
DATA ge0<>+8(SB)/4, $0x38a4b519
DATA ge0<>+12(SB)/4, $0x38a4b519
DATA ge0<>+16(SB)/4, $0x38a4b519
DATA ge0<>+20(SB)/4, $0x38a4b519
DATA ge0<>+24(SB)/4, $0x38a4b519
DATA ge0<>+28(SB)/4, $0x38a4b519
GLOBL ge0<>(SB), RODATA|NOPTR, $32

// ge1: geluErf[1]
DATA ge1<>+0(SB)/4, $0xba51fb80
DATA ge1<>+4(SB)/4, $0xba51fb80
DATA ge1<>+8(SB)/4, $0xba51fb80
DATA ge1<>+12(SB)/4, $0xba51fb80
DATA ge1<>+16(SB)/4, $0xba51fb80
DATA ge1<>+20(SB)/4, $0xba51fb80
DATA ge1<>+24(SB)/4, $0xba51fb80
DATA ge1<>+28(SB)/4, $0xba51fb80
GLOBL ge1<>(SB), RODATA|NOPTR, $32

// ge2: geluErf[2]
DATA ge2<>+0(SB)/4, $0x3baa02d9
DATA ge2<>+4(SB)/4, $0x3baa02d9
DATA ge2<>+8(SB)/4, $0x3baa02d9
DATA ge2<>+12(SB)/4, $0x3baa02d9
DATA ge2<>+16(SB)/4, $0x3baa02d9
DATA ge2<>+20(SB)/4, $0x3baa02d9
DATA ge2<>+24(SB)/4, $0x3baa02d9
DATA ge2<>+28(SB)/4, $0x3baa02d9
GLOBL ge2<>(SB), RODATA|NOPTR, $32

// ge3: geluErf[3]
DATA ge3<>+0(SB)/4, $0xbcdbfc87
DATA ge3<>+4(SB)/4, $0xbcdbfc87
DATA ge3<>+8(SB)/4, $0xbcdbfc87
DATA ge3<>+12(SB)/4, $0xbcdbfc87
DATA ge3<>+16(SB)/4, $0xbcdbfc87
DATA ge3<>+20(SB)/4, $0xbcdbfc87
DATA ge3<>+24(SB)/4, $0xbcdbfc87
DATA ge3<>+28(SB)/4, $0xbcdbfc87
GLOBL ge3<>(SB), RODATA|NOPTR, $32

// ge4: geluErf[4]
DATA ge4<>+0(SB)/4, $0x3de7167c
DATA ge4<>+4(SB)/4, $0x3de7167c
DATA ge4<>+8(SB)/4, $0x3de7167c
DATA ge4<>+12(SB)/4, $0x3de7167c
DATA ge4<>+16(SB)/4, $0x3de7167c
DATA ge4<>+20(SB)/4, $0x3de7167c
DATA ge4<>+24(SB)/4, $0x3de7167c
DATA ge4<>+28(SB)/4, $0x3de7167c
GLOBL ge4<>(SB), RODATA|NOPTR, $32

// ge5: geluErf[5]
DATA ge5<>+0(SB)/4, $0xbec0939f
DATA ge5<>+4(SB)/4, $0xbec0939f
DATA ge5<>+8(SB)/4, $0xbec0939f
DATA ge5<>+12(SB)/4, $0xbec0939f
DATA ge5<>+16(SB)/4, $0xbec0939f
DATA ge5<>+20(SB)/4, $0xbec0939f
DATA ge5<>+24(SB)/4, $0xbec0939f
DATA ge5<>+28(SB)/4, $0xbec0939f
GLOBL ge5<>(SB), RODATA|NOPTR, $32

// ge6: geluErf[6]
DATA ge6<>+0(SB)/4, $0x3f906eba
DATA ge6<>+4(SB)/4, $0x3f906eba
DATA ge6<>+8(SB)/4, $0x3f906eba
DATA ge6<>+12(SB)/4, $0x3f906eba
DATA ge6<>+16(SB)/4, $0x3f906eba
DATA ge6<>+20(SB)/4, $0x3f906eba
DATA ge6<>+24(SB)/4, $0x3f906eba
DATA ge6<>+28(SB)/4, $0x3f906eba
GLOBL ge6<>(SB), RODATA|NOPTR, $32

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

// func gelu32AVX2(z, a, d1, d2 *float32, n int)
//
// gelu32Go, eight lanes at a time. Registers: Y0 x, Y1 xc (x clamped to
// ±geluClamp), Y3 t G/2 then qS, Y5 eS then pdfS, Y7 cdf, Y9 |x| < 1,
// Y12 20, Y13 -20, Y14 1, Y15 gexpmin.
TEXT ·gelu32AVX2(SB), NOSPLIT, $0-40
	MOVQ    z+0(FP), SI
	MOVQ    a+8(FP), DI
	MOVQ    d1+16(FP), DX
	MOVQ    d2+24(FP), R8
	MOVQ    n+32(FP), CX
	VMOVUPS gexpmin<>(SB), Y15
	VMOVUPS one<>(SB), Y14
	VMOVUPS m20<>(SB), Y13
	VMOVUPS p20<>(SB), Y12
	XORQ    AX, AX

geluloop:
	CMPQ AX, CX
	JGE  geludone
	VMOVUPS (SI)(AX*4), Y0
	VMAXPS  Y0, Y13, Y1             // max(x, -20), NaN kept
	VMINPS  Y1, Y12, Y1             // xc
	VANDPS  absmask<>(SB), Y1, Y2   // |xc|
	VMULPS  isqrt2<>(SB), Y2, Y3    // z
	VMULPS  half<>(SB), Y3, Y3
	VADDPS  Y14, Y3, Y3
	VDIVPS  Y3, Y14, Y3             // t = 1/(1 + z/2)
	VSUBPS  gtc<>(SB), Y3, Y4
	VMULPS  ginvh<>(SB), Y4, Y4     // u
	VMOVUPS gg0<>(SB), Y5
	VFMADD213PS gg1<>(SB), Y4, Y5
	VFMADD213PS gg2<>(SB), Y4, Y5
	VFMADD213PS gg3<>(SB), Y4, Y5
	VFMADD213PS gg4<>(SB), Y4, Y5
	VFMADD213PS gg5<>(SB), Y4, Y5
	VFMADD213PS gg6<>(SB), Y4, Y5
	VFMADD213PS gg7<>(SB), Y4, Y5
	VFMADD213PS gg8<>(SB), Y4, Y5
	VFMADD213PS gg9<>(SB), Y4, Y5
	VFMADD213PS gg10<>(SB), Y4, Y5
	VMULPS  half<>(SB), Y3, Y3
	VMULPS  Y5, Y3, Y3              // t G/2
	VMULPS      Y1, Y1, Y4          // p = fl(xc²)
	VMOVAPS     Y1, Y5
	VFMSUB213PS Y4, Y1, Y5          // xc² - p, exact
	VMULPS      mhalf<>(SB), Y4, Y2 // y = -p/2
	VMULPS      mhalf<>(SB), Y5, Y6 // lo = -(xc² - p)/2

	// eS = exp(y + lo) 2^64 (expSplit32 with k = 64)
	VMAXPS      Y2, Y15, Y2
	VMULPS      log2e<>(SB), Y2, Y7
	VROUNDPS    $0, Y7, Y7
	VMOVAPS     Y2, Y4
	VFMADD231PS mln2hi<>(SB), Y7, Y4
	VFMADD231PS mln2lo<>(SB), Y7, Y4
	VADDPS      Y6, Y4, Y4          // r
	VMOVUPS     expp0<>(SB), Y5
	VFMADD213PS expp1<>(SB), Y4, Y5
	VFMADD213PS expp2<>(SB), Y4, Y5
	VFMADD213PS expp3<>(SB), Y4, Y5
	VFMADD213PS expp4<>(SB), Y4, Y5
	VFMADD213PS expp5<>(SB), Y4, Y5
	VMULPS      Y4, Y4, Y8
	VFMADD213PS Y4, Y8, Y5
	VADDPS      Y14, Y5, Y5
	VCVTPS2DQ   Y7, Y8
	VPADDD      i64<>(SB), Y8, Y8
	VPSRAD      $1, Y8, Y9
	VPSUBD      Y9, Y8, Y8
	VPADDD      bias127<>(SB), Y8, Y8
	VPADDD      bias127<>(SB), Y9, Y9
	VPSLLD      $23, Y8, Y8
	VPSLLD      $23, Y9, Y9
	VMULPS      Y9, Y5, Y5
	VMULPS      Y8, Y5, Y5          // eS

	VMULPS  Y5, Y3, Y3              // qS = Φ(-|x|) 2^64
	VMULPS  isqrt2pi<>(SB), Y5, Y5  // pdfS

	// cdf for |x| < 1: 1/2 + erf(x/√2)/2
	VMULPS  isqrt2<>(SB), Y1, Y4    // x/√2
	VMULPS  Y4, Y4, Y6
	VMOVUPS ge0<>(SB), Y7
	VFMADD213PS ge1<>(SB), Y6, Y7
	VFMADD213PS ge2<>(SB), Y6, Y7
	VFMADD213PS ge3<>(SB), Y6, Y7
	VFMADD213PS ge4<>(SB), Y6, Y7
	VFMADD213PS ge5<>(SB), Y6, Y7
	VFMADD213PS ge6<>(SB), Y6, Y7
	VMULPS  Y4, Y7, Y7
	VMULPS  half<>(SB), Y7, Y7
	VADDPS  half<>(SB), Y7, Y7
	// cdf for x >= 1: 1 - qS 2^-64
	VMULPS  p2m64<>(SB), Y3, Y8
	VSUBPS  Y8, Y14, Y8
	VANDPS  absmask<>(SB), Y1, Y9
	VCMPPS  $1, one<>(SB), Y9, Y9   // |xc| < 1
	VBLENDVPS Y9, Y7, Y8, Y7        // cdf, unless x <= -1
	VMULPS    p2p64<>(SB), Y7, Y8
	VBLENDVPS Y0, Y3, Y8, Y6
	VBLENDVPS Y9, Y8, Y6, Y6        // cdfS
	VMAXPS    Y0, Y13, Y2
	VMULPS    Y3, Y2, Y2
	VMULPS    p2m64<>(SB), Y2, Y2   // s for x <= -1
	VMULPS    Y7, Y0, Y4            // s otherwise
	VBLENDVPS Y0, Y2, Y4, Y8
	VBLENDVPS Y9, Y4, Y8, Y8        // s
	VMOVUPS   Y8, (DI)(AX*4)
	TESTQ     DX, DX
	JZ        gelunod1
	VFMADD231PS Y1, Y5, Y6
	VMULPS    p2m64<>(SB), Y6, Y6   // s' = (xc pdfS + cdfS) 2^-64
	VMOVUPS   Y6, (DX)(AX*4)

gelunod1:
	TESTQ        R8, R8
	JZ           gelunod2
	VMOVAPS      Y1, Y4
	VFNMADD213PS two<>(SB), Y1, Y4  // 2 - xc², rounded once
	VMULPS       Y5, Y4, Y4
	VMULPS       p2m64<>(SB), Y4, Y4 // s" = pdfS (2 - xc²) 2^-64
	VMOVUPS      Y4, (R8)(AX*4)

gelunod2:
	ADDQ $8, AX
	JMP  geluloop

geludone:
	VZEROUPPER
	RET
