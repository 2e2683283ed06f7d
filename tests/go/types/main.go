// SPDX-License-Identifier: BSD-2-Clause

// types calls one function per kind of Go value, with known arguments, so
// that tests can check what luprobe reads against what the program prints.
//
//	types [-n N]     run the whole sequence N times (default 1)
//	types -layout    print the size, alignment and field offsets of its types
//
// Every call prints one line with the values it passed and got back, in a
// fixed order. Values are distinctive so that a wrong read cannot match by
// chance. Traced functions call touch(), a tiny non-inlined helper, so that
// they have a frame and a stack-check prologue; leafInt and leafStr do not.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"unsafe"
)

type Small struct {
	A int
	B string
}

// Big has more fields than the register ABI splits, so it goes on the stack.
type Big struct {
	A [4]int64
	B string
	C float64
	D []int
	E bool
	F int32
	G *Small
	H map[string]int
	I complex128
	J uint8
}

type URL struct {
	Scheme string
	Host   string
	Path   string
}

// Request mimics net/http.Request for nested field paths (r.URL.Path).
type Request struct {
	Method        string
	URL           *URL
	Header        map[string][]string
	ContentLength int64
	Close         bool
}

// Node is recursive through a pointer.
type Node struct {
	Val  int
	Next *Node
}

type Inner struct {
	X, Y int32
}

// Outer promotes X and Y from Inner and A and B from *Small.
type Outer struct {
	Flag bool
	Inner
	Name string
	*Small
}

// Padded exercises alignment holes.
type Padded struct {
	A int8
	B int64
	C int16
	D int32
	E int8
	F complex64
	G [3]uint16
}

type MyErr struct {
	Code int
	Msg  string
}

func (e *MyErr) Error() string { return fmt.Sprintf("myerr %d: %s", e.Code, e.Msg) }

type Celsius float64

func (c Celsius) String() string { return fmt.Sprintf("%.2fC", float64(c)) }

type Counter struct {
	N    int
	Name string
}

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// Stack has a method instantiated for shapes: it receives a dictionary, before
// the receiver (Go 1.18 and 1.19) or after it (from Go 1.20).
type Stack[T any] struct {
	items []T
}

//go:noinline
func (s *Stack[T]) Push(v T) int {
	touch()
	s.items = append(s.items, v)
	return len(s.items)
}

// Queue's Put is also called through an interface, that is through a
// generated wrapper for Queue[string] that calls the shape instance.
type Queue[T any] struct {
	items []T
}

//go:noinline
func (q *Queue[T]) Put(v T) int {
	touch()
	q.items = append(q.items, v)
	return len(q.items)
}

type putter interface{ Put(string) int }

var sinkInt int

// touch gives the traced functions a call, hence a frame and a stack check.
//
//go:noinline
func touch() { sinkInt++ }

//go:noinline
func fBool(b bool) bool { touch(); return !b }

//go:noinline
func fInts(a int8, b int16, c int32, d int64, e int) int64 {
	touch()
	return int64(a) + int64(b) + int64(c) + d + int64(e)
}

//go:noinline
func fUints(a uint8, b uint16, c uint32, d uint64, e uint, f uintptr) uint64 {
	touch()
	return uint64(a) + uint64(b) + uint64(c) + d + uint64(e) + uint64(f)
}

//go:noinline
func fFloats(a float32, b float64) float64 { touch(); return float64(a) * b }

//go:noinline
func fComplex(a complex64, b complex128) complex128 { touch(); return complex128(a) + b }

//go:noinline
func fString(s string) int { touch(); return len(s) }

//go:noinline
func fBytes(b []byte) int { touch(); return len(b) + cap(b) }

//go:noinline
func fIntSlice(xs []int) int {
	touch()
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

//go:noinline
func fArray(a [3]int) int { touch(); return a[0] + a[1] + a[2] }

//go:noinline
func fArray1(a [1]string) string { touch(); return a[0] + "!" }

//go:noinline
func fPtrs(p *int, s *Small) int { touch(); return *p + s.A }

//go:noinline
func fSmall(s Small) Small { touch(); return Small{s.A * 2, s.B + s.B} }

//go:noinline
func fBig(b Big) int { touch(); return int(b.A[3]) + len(b.B) + len(b.D) + int(b.F) }

//go:noinline
func fPadded(p Padded) int { touch(); return int(p.A) + int(p.B) + int(p.G[2]) }

//go:noinline
func fRequest(r *Request) string { touch(); return r.Method + " " + r.URL.Path }

//go:noinline
func fError(err error) string {
	touch()
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

//go:noinline
func fAny(v any) string { touch(); return fmt.Sprintf("%T", v) }

//go:noinline
func fStringer(s fmt.Stringer) string { touch(); return s.String() }

//go:noinline
func fMap(m map[string]int) int { touch(); return len(m) }

//go:noinline
func fChan(c chan int) int { touch(); return len(c)*100 + cap(c) }

//go:noinline
func fRecvChan(c <-chan int) int { touch(); return cap(c) }

//go:noinline
func fFunc(f func(int) int, x int) int { touch(); return f(x) }

//go:noinline
func fUnsafe(p unsafe.Pointer, n uintptr) uintptr {
	touch()
	if p != nil {
		return n + 1
	}
	return n
}

//go:noinline
func (c Counter) Get() int { touch(); return c.N }

//go:noinline
func (c *Counter) Add(d int) int { touch(); c.N += d; return c.N }

//go:noinline
func fMany(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12 int) int {
	touch()
	return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12
}

//go:noinline
func fMixed(a int, b float64, c int32, d float32, e string) float64 {
	touch()
	return float64(a) + b + float64(c) + float64(d) + float64(len(e))
}

//go:noinline
func fMulti(x int) (int, string, error, float64, Small) {
	touch()
	return x + 1, "multi", errors.New("multi failed"), 6.5, Small{x, "s"}
}

//go:noinline
func fNamed(x int, s string) (n int, err error) {
	touch()
	n = x * 3
	if s == "" {
		err = errors.New("empty")
	}
	return
}

//go:noinline
func fNode(n *Node) int {
	touch()
	t := 0
	for ; n != nil; n = n.Next {
		t += n.Val
	}
	return t
}

//go:noinline
func fOuter(o Outer) int { touch(); return int(o.X) + int(o.Y) + o.A + len(o.Name) }

//go:noinline
func fCelsius(c Celsius) Celsius { touch(); return c + 1.5 }

//go:noinline
func fBlank(_ int, s string) int { touch(); return len(s) }

//go:noinline
func fPair(p Pair[string, int]) int { touch(); return len(p.Key) + p.Val }

// Under the register ABI, arrays longer than one element go on the stack:
// gArrayResult's result follows the (empty) stack arguments, before the
// spill slot of x; gReordered's array comes first, a and c after it in the
// spill area, in less room than the stack ABI's order takes.
//
//go:noinline
func gArrayResult(x int) [2]int { touch(); return [2]int{x, x + 1} }

//go:noinline
func gReordered(a byte, arr [2]int64, c byte) int64 {
	touch()
	return int64(a) + arr[0] + arr[1] + int64(c)
}

//go:noinline
func Sum[T int | float64](xs []T) T {
	touch()
	var t T
	for _, x := range xs {
		t += x
	}
	return t
}

// leafInt and leafStr are frameless leaves: no call, no stack check.
//
//go:noinline
func leafInt(x int) int { return x*3 + 1 }

//go:noinline
func leafStr(s string) int { return len(s) * 2 }

// addOne is inlined into main and also has an out-of-line copy, used as a func value.
func addOne(x int) int { return x + 1 }

//go:noinline
func triple(x int) int { touch(); return x * 3 }

func run() {
	b := fBool(true)
	fmt.Printf("fBool(true) = %v\n", b)
	fmt.Printf("fInts(-100, -30000, -2000000000, -123456789012, -123456789) = %d\n",
		fInts(-100, -30000, -2000000000, -123456789012, -123456789))
	fmt.Printf("fUints(200, 60000, 4000000000, 12345678901234567890, 987654321, 0xdeadbeef) = %d\n",
		fUints(200, 60000, 4000000000, 12345678901234567890, 987654321, 0xdeadbeef))
	fmt.Printf("fFloats(3.25, -2.5e10) = %g\n", fFloats(3.25, -2.5e10))
	fmt.Printf("fComplex((1.5+2.5i), (-3.25+4.75i)) = %v\n", fComplex(1.5+2.5i, -3.25+4.75i))
	fmt.Printf("fString(%q) = %d\n", "héllo, wörld", fString("héllo, wörld"))
	bs := make([]byte, 5, 8)
	copy(bs, "bytes")
	fmt.Printf("fBytes(%q len 5 cap 8) = %d\n", bs, fBytes(bs))
	fmt.Printf("fIntSlice([7 -8 9000000001]) = %d\n", fIntSlice([]int{7, -8, 9000000001}))
	fmt.Printf("fArray([11 22 -3333]) = %d\n", fArray([3]int{11, 22, -3333}))
	fmt.Printf("fArray1([%q]) = %q\n", "one", fArray1([1]string{"one"}))
	pi := -123456789
	sm := &Small{A: 424242, B: "pointed"}
	fmt.Printf("fPtrs(&-123456789, &{424242 pointed}) = %d\n", fPtrs(&pi, sm))
	s2 := fSmall(Small{A: 31337, B: "small"})
	fmt.Printf("fSmall({31337 small}) = {%d %s}\n", s2.A, s2.B)
	big := Big{A: [4]int64{1, 2, 3, -4444}, B: "big string", C: 2.75, D: []int{5, 6}, E: true,
		F: -77, G: sm, H: map[string]int{"k": 1}, I: 1 - 1i, J: 0xab}
	fmt.Printf("fBig({A:[1 2 3 -4444] B:big string C:2.75 D:[5 6] E:true F:-77 ...}) = %d\n", fBig(big))
	pd := Padded{A: -5, B: 1 << 40, C: -300, D: 70000, E: 9, F: 2 + 3i, G: [3]uint16{1, 2, 65535}}
	fmt.Printf("fPadded({A:-5 B:1099511627776 C:-300 D:70000 E:9 F:(2+3i) G:[1 2 65535]}) = %d\n",
		fPadded(pd))
	req := &Request{Method: "GET", URL: &URL{Scheme: "https", Host: "example.com",
		Path: "/api/v1/items"}, Header: map[string][]string{"Accept": {"*/*"}},
		ContentLength: 1234567, Close: true}
	fmt.Printf("fRequest(GET https://example.com/api/v1/items) = %q\n", fRequest(req))
	fmt.Printf("fError(nil) = %q\n", fError(nil))
	base := errors.New("disk on fire")
	fmt.Printf("fError(errors.New(%q)) = %q\n", "disk on fire", fError(base))
	fmt.Printf("fError(fmt.Errorf(\"open: %%w\")) = %q\n", fError(fmt.Errorf("open: %w", base)))
	fmt.Printf("fError(&MyErr{404, %q}) = %q\n", "not found", fError(&MyErr{404, "not found"}))
	fmt.Printf("fAny(-987654321) = %q\n", fAny(-987654321))
	fmt.Printf("fAny(%q) = %q\n", "any string", fAny("any string"))
	fmt.Printf("fAny(&{424242 pointed}) = %q\n", fAny(sm))
	fmt.Printf("fStringer(Celsius(36.6)) = %q\n", fStringer(Celsius(36.6)))
	m := map[string]int{"one": 1, "two": 2, "three": 3}
	fmt.Printf("fMap(map len 3) = %d\n", fMap(m))
	ch := make(chan int, 7)
	ch <- 1
	ch <- 2
	fmt.Printf("fChan(chan len 2 cap 7) = %d\n", fChan(ch))
	fmt.Printf("fRecvChan(chan len 2 cap 7) = %d\n", fRecvChan(ch))
	fmt.Printf("fFunc(triple, 14) = %d\n", fFunc(triple, 14))
	fmt.Printf("fFunc(addOne, 41) = %d\n", fFunc(addOne, 41))
	fmt.Printf("addOne(99) = %d\n", addOne(99))
	fmt.Printf("fUnsafe(nil, 4096) = %d\n", fUnsafe(nil, 4096))
	c := Counter{N: 5000, Name: "ctr"}
	fmt.Printf("Counter{5000 ctr}.Get() = %d\n", c.Get())
	fmt.Printf("(*Counter{5000 ctr}).Add(-17) = %d\n", c.Add(-17))
	fmt.Printf("fMany(1..12 *1001) = %d\n",
		fMany(1001, 2002, 3003, 4004, 5005, 6006, 7007, 8008, 9009, 10010, 11011, 12012))
	fmt.Printf("fMixed(-42, 3.25, 100000, 0.5, %q) = %g\n", "mix",
		fMixed(-42, 3.25, 100000, 0.5, "mix"))
	r1, r2, r3, r4, r5 := fMulti(2023)
	fmt.Printf("fMulti(2023) = %d, %q, %q, %g, {%d %s}\n", r1, r2, r3.Error(), r4, r5.A, r5.B)
	n, err := fNamed(-11, "")
	fmt.Printf("fNamed(-11, \"\") = %d, %v\n", n, err)
	list := &Node{Val: 1, Next: &Node{Val: 20, Next: &Node{Val: 300}}}
	fmt.Printf("fNode(1->20->300) = %d\n", fNode(list))
	o := Outer{Flag: true, Inner: Inner{X: -8, Y: 9}, Name: "outer", Small: sm}
	fmt.Printf("fOuter({true {-8 9} outer &{424242 pointed}}) = %d\n", fOuter(o))
	fmt.Printf("fCelsius(-40.25) = %v\n", float64(fCelsius(-40.25)))
	fmt.Printf("fBlank(1, %q) = %d\n", "blank", fBlank(1, "blank"))
	fmt.Printf("fPair({%q 8080}) = %d\n", "port", fPair(Pair[string, int]{"port", 8080}))
	fmt.Printf("gArrayResult(-7) = %v\n", gArrayResult(-7))
	fmt.Printf("gReordered(3, [2]int64{400, -5000}, 60) = %d\n",
		gReordered(3, [2]int64{400, -5000}, 60))
	fmt.Printf("Sum[int]([10 20 30]) = %d\n", Sum([]int{10, 20, 30}))
	fmt.Printf("Sum[float64]([0.25 0.5]) = %g\n", Sum([]float64{0.25, 0.5}))
	st := &Stack[string]{items: []string{"a"}}
	fmt.Printf("(*Stack[string]).Push(%q) = %d\n", "pushed", st.Push("pushed"))
	q := &Queue[string]{}
	var pq putter = q
	fmt.Printf("putter.Put(%q) = %d\n", "queued", pq.Put("queued"))
	fmt.Printf("(*Queue[string]).Put(%q) = %d\n", "direct", q.Put("direct"))
	fmt.Printf("leafInt(-123456789) = %d\n", leafInt(-123456789))
	fmt.Printf("leafStr(%q) = %d\n", "héllo", leafStr("héllo"))
}

// layout prints "type NAME size S align A" then "field NAME.FIELD OFFSET" per
// field, from unsafe and reflect, for the struct types above.
func layout() {
	for _, v := range []any{Small{}, Big{}, URL{}, Request{}, Node{}, Inner{}, Outer{}, Padded{},
		MyErr{}, Counter{}, Pair[string, int]{}} {
		t := reflect.TypeOf(v)
		fmt.Printf("type main.%s size %d align %d\n", t.Name(), t.Size(), t.Align())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fmt.Printf("field main.%s.%s %d\n", t.Name(), f.Name, f.Offset)
		}
	}
	// Cross-check reflect against unsafe for one type, so the two cannot disagree silently.
	var p Padded
	if unsafe.Sizeof(p) != reflect.TypeOf(p).Size() || unsafe.Offsetof(p.G) != reflect.TypeOf(p).Field(6).Offset {
		fmt.Fprintln(os.Stderr, "layout: reflect and unsafe disagree")
		os.Exit(1)
	}
}

func main() {
	n := flag.Int("n", 1, "run the whole sequence `N` times")
	lay := flag.Bool("layout", false, "print type layouts and exit")
	flag.Parse()
	if *lay {
		layout()
		return
	}
	for i := 0; i < *n; i++ {
		run()
	}
}
