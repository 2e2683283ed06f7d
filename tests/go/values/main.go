// SPDX-License-Identifier: BSD-2-Clause

// values passes one value of every kind luprobe's decoder handles, grouped in
// structs that the register ABI passes on the stack (each has an array
// field), so that floats are readable too. Before each call the program
// prints what it passes, one line per call, so that tests check luprobe's
// text, JSON and Lua forms against the program's own values.
package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

type Point struct {
	X, Y int32
}

type Scalars struct {
	I8   int8
	I16  int16
	I32  int32
	I64  int64
	I    int
	U8   uint8
	U16  uint16
	U32  uint32
	U64  uint64
	Huge uint64 // from 2^63 up
	U    uint
	P    uintptr
	F32  float32
	F64  float64
	NaN  float64
	Inf  float64
	C64  complex64
	C128 complex128
	T    bool
	F    bool
	Pad  [2]int64
}

type Strings struct {
	Empty string
	ASCII string
	UTF8  string
	Bad   string // not UTF-8
	Esc   string
	Long  string // longer than the default 64-byte capture
	Bytes []byte
	Bin   []byte
	NilB  []byte
	Arr   [2]string
}

type Slices struct {
	Ints    []int
	Many    []int32 // more than the 8 elements captured by default
	Strs    []string
	Points  []Point
	NilInts []int
	Empty   []int
	Arr     [3]int16
	Nested  [2]Point
}

type MyErr struct {
	Code int
}

func (e *MyErr) Error() string { return fmt.Sprintf("myerr %d", e.Code) }

type Refs struct {
	Small  map[string]int
	Large  map[int]int // more entries than any element cap
	NilMap map[string]int
	P      *Point
	NilP   *Point
	Fn     func(int) int
	NilFn  func(int) int
	Ch     chan int
	NilCh  chan int
	Arr    [1]int
}

type Ifaces struct {
	AnyI   any
	AnyS   any
	AnyF   any
	AnyB   any
	AnyP   any
	NilAny any
	Err    error
	Wrap   error
	MyErr  error
	NilErr error
	Arr    [1]int
}

// Unreadable points where nothing is mapped: luprobe's reads there fault.
type Unreadable struct {
	P    *Point
	S    string
	Ints []int
	Arr  [1]int
}

var sink int

//go:noinline
func touch() { sink++ }

//go:noinline
func fScalars(s Scalars) int { touch(); return int(s.I8) }

//go:noinline
func fStrings(s Strings) int { touch(); return len(s.Long) }

//go:noinline
func fSlices(s Slices) int { touch(); return len(s.Many) }

//go:noinline
func fRefs(r Refs) int { touch(); return len(r.Large) }

//go:noinline
func fIfaces(i Ifaces) int { touch(); return i.Arr[0] }

//go:noinline
func fUnreadable(u Unreadable) int { touch(); return u.Arr[0] }

//go:noinline
func triple(x int) int { return 3 * x }

const nowhere = uintptr(0x7ffff0001000) // below the stack, not mapped in a Go process

// badString is a string header whose bytes are nowhere (unsafe.String is Go 1.20).
func badString(n int) string {
	h := struct {
		p uintptr
		n int
	}{nowhere, n}
	return *(*string)(unsafe.Pointer(&h))
}

func main() {
	sc := Scalars{I8: -8, I16: -1600, I32: -320000, I64: -64000000000, I: -42,
		U8: 200, U16: 60000, U32: 4000000000, U64: 6400000000, Huge: 1<<63 + 12345,
		U: 77, P: 0xdeadbeef, F32: 1.5, F64: -2.25, NaN: math.NaN(), Inf: math.Inf(1),
		C64: complex(1, -2), C128: complex(-0.5, 4), T: true, F: false, Pad: [2]int64{1, -1}}
	fmt.Printf("fScalars %+v\n", sc)
	fScalars(sc)

	st := Strings{Empty: "", ASCII: "plain", UTF8: "héllo, wörld", Bad: "\xff\xfeok",
		Esc: "tab\tquote\"nl\n", Long: strings.Repeat("0123456789", 10),
		Bytes: []byte("bytes"), Bin: []byte{0, 1, 0xfe}, NilB: nil, Arr: [2]string{"a", "b"}}
	fmt.Printf("fStrings %#v\n", st)
	fStrings(st)

	sl := Slices{Ints: []int{1, -2, 3}, Strs: []string{"x", "yz"},
		Points: []Point{{1, 2}, {-3, 4}}, NilInts: nil, Empty: []int{},
		Arr: [3]int16{7, -8, 9}, Nested: [2]Point{{5, 6}, {7, 8}}}
	sl.Many = make([]int32, 20, 24)
	for i := range sl.Many {
		sl.Many[i] = int32(i * i)
	}
	fmt.Printf("fSlices %+v\n", sl)
	fSlices(sl)

	large := map[int]int{}
	for i := 0; i < 100; i++ {
		large[i] = i
	}
	ch := make(chan int, 4)
	ch <- 1
	rf := Refs{Small: map[string]int{"a": 1, "b": 2}, Large: large, P: &Point{11, -12},
		Fn: triple, Ch: ch, Arr: [1]int{9}}
	fmt.Printf("fRefs Small=%d Large=%d P=%+v Fn=%d Ch=%d/%d\n", len(rf.Small), len(rf.Large),
		*rf.P, rf.Fn(1), len(rf.Ch), cap(rf.Ch))
	fRefs(rf)

	fi := Ifaces{AnyI: 42, AnyS: "str", AnyF: 3.5, AnyB: true, AnyP: &Point{1, 1},
		Err: errors.New("disk on fire"), Wrap: fmt.Errorf("open: %w", errors.New("denied")),
		MyErr: &MyErr{404}, Arr: [1]int{9}}
	fmt.Printf("fIfaces AnyI=%v AnyS=%q AnyF=%v AnyB=%v AnyP=%p Err=%q Wrap=%q MyErr=%q/%p\n",
		fi.AnyI, fi.AnyS, fi.AnyF, fi.AnyB, fi.AnyP, fi.Err.Error(), fi.Wrap.Error(),
		fi.MyErr.Error(), fi.MyErr)
	fIfaces(fi)

	u := Unreadable{P: (*Point)(unsafe.Pointer(nowhere)),
		S:    badString(5),
		Ints: unsafe.Slice((*int)(unsafe.Pointer(nowhere)), 3), Arr: [1]int{5}}
	fmt.Printf("fUnreadable P=%#x S.len=%d Ints.len=%d\n", uintptr(unsafe.Pointer(u.P)),
		len(u.S), len(u.Ints))
	fUnreadable(u)
}
