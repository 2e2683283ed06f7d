// SPDX-License-Identifier: BSD-2-Clause

// abi holds functions whose signatures exercise every corner of Go's
// amd64 calling conventions, for tests/unit/test_goabi.c to compare the ABI
// model against what the compiler emits:
//
//   - each callee F calls g, so it has a stack-check prologue whose
//     morestack path spills every register argument to its spill slot;
//   - each caller cF passes distinct constants to F and stores F's results
//     to the globals rF_0, rF_1, ... (pointer-holding results as uintptr
//     words, so no write barrier gets in the way);
//   - asm1, asm2 and asm3 are assembly (ABI0) functions, so their callers
//     show the stack layout of the stack-based ABI.
//
// Run, it calls every function once and prints "abi: N values".
package main

import (
	"fmt"
	"unsafe"
)

type S struct {
	A int8
	B float64
}

type N struct {
	X struct {
		A int16
		B int64
	}
	Y float32
	Z struct {
		P *int64
		Q [1]int32
	}
	W [0]int64 // zero-sized last field: the struct gets a padding byte
}

type Big struct{ A, B, C, D, E, F, G, H, I, J int32 }

type ZeroArr struct {
	A [2]struct{} // an array of length 2, even zero-sized, forbids registers
	B int64
}

type TrailZero struct {
	A int64
	B struct{}
}

type T struct {
	A int32
	B string
}

type myErr int

func (e *myErr) Error() string { return "myErr" }

var (
	gX   int64
	gY   int64
	gErr myErr
	gBuf [8]byte
	kept []any
	nval int
)

//go:noinline
func g() { nval++ }

// keep uses every argument, so none is dead at entry and none escapes the spill path.
//
//go:noinline
func keep(vs ...any) {
	kept = vs
	nval += len(vs)
}

//go:noinline
func ints(a int8, b int16, c int32, d int64, e uint8, f uint16, h uint32, i uint64, j int) (int8, uint16, int32, uint64) {
	g()
	keep(a, b, c, d, e, f, h, i, j)
	return a + 1, f + 2, c + 3, i + 4
}

//go:noinline
func misc(b bool, p *int64, u unsafe.Pointer, up uintptr, m map[int]int, ch chan int, fn func()) (bool, uintptr) {
	g()
	keep(b, p, u, up, m, ch, fn)
	return !b, up + 1
}

//go:noinline
func mixed(a int, b float64, c int8, d float32, e uint16, f float64) (float32, int16, float64, bool) {
	g()
	keep(a, b, c, d, e, f)
	return d + 1, int16(e), b + f, c > 0
}

//go:noinline
func strs(s string, b []byte, e error, x any) (string, []byte) {
	g()
	keep(s, b, e, x)
	return s[1:], b[1:]
}

//go:noinline
func small(x S) S {
	g()
	keep(x)
	return S{x.A + 1, x.B * 2}
}

//go:noinline
func nested(x N, y float32) N {
	g()
	keep(x, y)
	x.Y += y
	return x
}

//go:noinline
func arrays(a [0]int, b [1]int, c [2]int, d int8, e [1]float64) ([1]int32, [2]int16, [0]int) {
	g()
	keep(a, b, c, d, e)
	return [1]int32{int32(b[0])}, [2]int16{int16(c[0]), int16(c[1])}, a
}

//go:noinline
func zpad(a [2]int8, b [0]int64, c [2]int8, d int16) int16 {
	g()
	keep(a, b, c, d)
	return int16(a[0]) + int16(c[1]) + d
}

// The stack-assigned argument ends at 3 and the result starts at 8: results
// begin pointer-aligned. They end at 12, and the spill area begins at 16.
//
//go:noinline
func unalignedRes(a [3]int8, b int8) ([2]int16, int8) {
	g()
	keep(a, b)
	return [2]int16{int16(a[0]), int16(a[2])}, b
}

//go:noinline
func cplx(a complex128, b complex64, c int) (complex64, complex128) {
	g()
	keep(a, b, c)
	return b * 2, a * 2
}

//go:noinline
func manyInts(a, b, c, d, e, f, h, i, j, k int64) (int64, int64, int64, int64, int64, int64, int64, int64, int64, int64) {
	g()
	keep(a, b, c, d, e, f, h, i, j, k)
	return k, j, i, h, f, e, d, c, b, a
}

//go:noinline
func strOverflow(a, b, c, d, e, f, h, i int, s string, j int8) (int, int, int, int, int, int, int, int, string, int8) {
	g()
	keep(a, b, c, d, e, f, h, i, s, j)
	return a, b, c, d, e, f, h, i, s, j
}

//go:noinline
func manyFloats(a, b, c, d, e, f, h, i, j, k, l, m, n, o, p, q float64) (float64, float64, float64, float64, float64, float64, float64, float64, float64, float64, float64, float64, float64, float64, float64, float64) {
	g()
	keep(a, b, c, d, e, f, h, i, j, k, l, m, n, o, p, q)
	return q, p, o, n, m, l, k, j, i, h, f, e, d, c, b, a
}

//go:noinline
func cplxOverflow(a, b, c, d, e, f, h, i, j, k, l, m, n, o float64, z complex128, y float32) (complex128, float32) {
	g()
	keep(a, b, c, d, e, f, h, i, j, k, l, m, n, o, z, y)
	return z, y
}

//go:noinline
func bigStruct(x Big, y int) (Big, int) {
	g()
	keep(x, y)
	x.J = int32(y)
	return x, y
}

//go:noinline
func zeroArr(x ZeroArr, y int8) (ZeroArr, int8) {
	g()
	keep(x, y)
	return x, y
}

//go:noinline
func trailZero(x TrailZero, y int8) (TrailZero, int8) {
	g()
	keep(x, y)
	return x, y
}

//go:noinline
func (t T) Val(a int8) int64 {
	g()
	keep(t, a)
	return int64(t.A) + int64(a)
}

//go:noinline
func (t *T) Ptr(f float64, n int) (float64, int) {
	g()
	keep(t, f, n)
	return f * 2, n + int(t.A)
}

// Assembly, so ABI0: arguments and results on the stack.
func asm1(a int8, b int64, c int16, s string, d float32, e [2]int8) (r1 int32, r2 float64, r3 int8)
func asm2(x S, y complex64, z bool) (r1 S, r2 [0]int64, r3 uint16)
func asm3(a int8) (r int8)

var (
	rInts_0         int8
	rInts_1         uint16
	rInts_2         int32
	rInts_3         uint64
	rMisc_0         bool
	rMisc_1         uintptr
	rMixed_0        float32
	rMixed_1        int16
	rMixed_2        float64
	rMixed_3        bool
	rStrs_0         [2]uintptr
	rStrs_1         [3]uintptr
	rSmall_0        S
	rNested_0       [6]uintptr
	rArrays_0       [1]int32
	rArrays_1       [2]int16
	rZpad_0         int16
	rUnalignedRes_0 [2]int16
	rUnalignedRes_1 int8
	rCplx_0         complex64
	rCplx_1         complex128
	rManyInts_0     int64
	rManyInts_8     int64
	rManyInts_9     int64
	rStrOverflow_7  int
	rStrOverflow_8  [2]uintptr
	rStrOverflow_9  int8
	rManyFloats_0   float64
	rManyFloats_14  float64
	rManyFloats_15  float64
	rCplxOverflow_0 complex128
	rCplxOverflow_1 float32
	rBigStruct_0    Big
	rBigStruct_1    int
	rZeroArr_0      ZeroArr
	rZeroArr_1      int8
	rTrailZero_0    TrailZero
	rTrailZero_1    int8
	rVal_0          int64
	rPtr_0          float64
	rPtr_1          int
	rAsm1_0         int32
	rAsm1_1         float64
	rAsm1_2         int8
	rAsm2_0         S
	rAsm2_2         uint16
	rAsm3_0         int8
)

//go:noinline
func cInts() {
	rInts_0, rInts_1, rInts_2, rInts_3 = ints(-3, 1001, 100002, 100003, 4, 1005, 100006, 100007, 100008)
}

//go:noinline
func cMisc() { rMisc_0, rMisc_1 = misc(true, &gX, unsafe.Pointer(&gY), 0x1234, nil, nil, nil) }

//go:noinline
func cMixed() {
	rMixed_0, rMixed_1, rMixed_2, rMixed_3 = mixed(100001, 1.25, 3, 2.5, 1004, 3.75)
}

//go:noinline
func cStrs() {
	s, b := strs("hello", gBuf[1:4], &gErr, &gX)
	rStrs_0 = *(*[2]uintptr)(unsafe.Pointer(&s))
	rStrs_1 = *(*[3]uintptr)(unsafe.Pointer(&b))
}

//go:noinline
func cSmall() { rSmall_0 = small(S{5, 6.5}) }

//go:noinline
func cNested() {
	var x N
	x.X.A, x.X.B, x.Y, x.Z.P, x.Z.Q[0] = 1001, 100002, 3.5, &gY, 100004
	n := nested(x, 0.75)
	rNested_0 = *(*[6]uintptr)(unsafe.Pointer(&n))
}

//go:noinline
func cArrays() {
	rArrays_0, rArrays_1, _ = arrays([0]int{}, [1]int{100001}, [2]int{100002, 100003}, 4, [1]float64{5.5})
}

//go:noinline
func cZpad() { rZpad_0 = zpad([2]int8{1, 2}, [0]int64{}, [2]int8{3, 4}, 1005) }

//go:noinline
func cUnalignedRes() { rUnalignedRes_0, rUnalignedRes_1 = unalignedRes([3]int8{1, 2, 3}, 4) }

//go:noinline
func cCplx() { rCplx_0, rCplx_1 = cplx(complex(1.5, 2.5), complex(3.5, 4.5), 100005) }

//go:noinline
func cManyInts() {
	rManyInts_0, _, _, _, _, _, _, _, rManyInts_8, rManyInts_9 = manyInts(100001, 100002, 100003,
		100004, 100005, 100006, 100007, 100008, 100009, 100010)
}

//go:noinline
func cStrOverflow() {
	var s string
	_, _, _, _, _, _, _, rStrOverflow_7, s, rStrOverflow_9 = strOverflow(100001, 100002, 100003,
		100004, 100005, 100006, 100007, 100008, "overflow", 9)
	rStrOverflow_8 = *(*[2]uintptr)(unsafe.Pointer(&s))
}

//go:noinline
func cManyFloats() {
	rManyFloats_0, _, _, _, _, _, _, _, _, _, _, _, _, _, rManyFloats_14, rManyFloats_15 = manyFloats(
		1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5)
}

//go:noinline
func cCplxOverflow() {
	rCplxOverflow_0, rCplxOverflow_1 = cplxOverflow(1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5,
		10.5, 11.5, 12.5, 13.5, 14.5, complex(15.5, 16.5), 17.5)
}

//go:noinline
func cBigStruct() {
	rBigStruct_0, rBigStruct_1 = bigStruct(Big{1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008,
		1009, 1010}, 100011)
}

//go:noinline
func cZeroArr() { rZeroArr_0, rZeroArr_1 = zeroArr(ZeroArr{B: 100001}, 2) }

//go:noinline
func cTrailZero() { rTrailZero_0, rTrailZero_1 = trailZero(TrailZero{A: 100001}, 2) }

//go:noinline
func cVal() { rVal_0 = T{100001, "val"}.Val(2) }

//go:noinline
func cPtr(t *T) { rPtr_0, rPtr_1 = t.Ptr(1.5, 100002) }

//go:noinline
func cAsm1() { rAsm1_0, rAsm1_1, rAsm1_2 = asm1(1, 100002, 1003, "asm", 4.5, [2]int8{5, 6}) }

//go:noinline
func cAsm2() {
	var z [0]int64
	rAsm2_0, z, rAsm2_2 = asm2(S{1, 2.5}, complex(3.5, 4.5), true)
	keep(z)
}

//go:noinline
func cAsm3() { rAsm3_0 = asm3(-7) }

func main() {
	cInts()
	cMisc()
	cMixed()
	cStrs()
	cSmall()
	cNested()
	cArrays()
	cZpad()
	cUnalignedRes()
	cCplx()
	cManyInts()
	cStrOverflow()
	cManyFloats()
	cCplxOverflow()
	cBigStruct()
	cZeroArr()
	cTrailZero()
	cVal()
	cPtr(&T{100001, "ptr"})
	cAsm1()
	cAsm2()
	cAsm3()
	fmt.Printf("abi: %d values\n", nval)
}
