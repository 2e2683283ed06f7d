// SPDX-License-Identifier: BSD-2-Clause
//
// ABI0 functions: the caller lays arguments and results out on the stack,
// which test_goabi.c reads back from the callers' code. go vet checks the
// frame offsets below against its own model of the layout.

#include "textflag.h"

// func asm1(a int8, b int64, c int16, s string, d float32, e [2]int8) (r1 int32, r2 float64, r3 int8)
TEXT ·asm1(SB), NOSPLIT, $0-65
	MOVWQSX	c+16(FP), AX
	ADDL	$1, AX
	MOVL	AX, r1+48(FP)
	MOVQ	$0x4004000000000000, AX // 2.5
	MOVQ	AX, r2+56(FP)
	MOVB	e_1+45(FP), AX
	MOVB	AX, r3+64(FP)
	RET

// func asm2(x S, y complex64, z bool) (r1 S, r2 [0]int64, r3 uint16)
TEXT ·asm2(SB), NOSPLIT, $0-50
	MOVB	x_A+0(FP), AX
	MOVB	AX, r1_A+32(FP)
	MOVQ	x_B+8(FP), AX
	MOVQ	AX, r1_B+40(FP)
	MOVBLZX	z+24(FP), AX
	MOVW	AX, r3+48(FP)
	RET

// func asm3(a int8) (r int8)
TEXT ·asm3(SB), NOSPLIT, $0-9
	MOVB	a+0(FP), AX
	MOVB	AX, r+8(FP)
	RET
