// SPDX-License-Identifier: BSD-2-Clause

// rtypes holds types whose runtime type descriptors the type reader
// (src/go/rtype.c) is checked on: struct fields of every kind, embedded
// fields, named and generic types, methods with value and pointer
// receivers, and methods called only through interfaces (itabs).
//
//	rtypes [-n N]    call every method N times (default 1) and print a checksum
//
// Every type reaches an interface, so the binary keeps its descriptor;
// exported methods stay in the method tables because main looks one up by
// name through reflect.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"unsafe"
)

type Point struct {
	X, Y int32
}

type Named int64

type Labels map[string][]string

// Kinds has a field of every kind of Go type.
type Kinds struct {
	B    bool
	I    int
	I8   int8
	I16  int16
	I32  int32
	I64  int64
	U    uint
	U8   uint8
	U16  uint16
	U32  uint32
	U64  uint64
	UP   uintptr
	F32  float32
	F64  float64
	C64  complex64
	C128 complex128
	Arr  [3]uint16
	Ch   chan int
	RCh  <-chan string
	SCh  chan<- bool
	Fn   func(int, ...string) (bool, error)
	Any  interface{}
	Err  error
	M    map[string]int
	P    *Point
	S    []byte
	Str  string
	St   Point
	Anon struct {
		A uint8
		B string
	}
	UPtr  unsafe.Pointer
	N     Named
	L     Labels
	Nest  [2][]*Point
	MPtrs map[Point]*Kinds
}

type Base struct {
	ID   uint32
	Name string
}

func (b Base) Describe() string { return fmt.Sprintf("%d:%s", b.ID, b.Name) }

func (b *Base) Rename(name string) { b.Name = name }

type Logger interface {
	Log(msg string, level int) int
}

// Derived embeds a struct value, a pointer and an interface.
type Derived struct {
	Base
	*Point
	Logger
	Extra  float64
	hidden byte
}

// Box is generic: each instantiation has its own descriptor and methods.
type Box[T any] struct {
	Val   T
	Count int
}

func (b Box[T]) Get() T { return b.Val }

func (b *Box[T]) Put(v T) int {
	b.Val = v
	b.Count++
	return b.Count
}

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// Account has methods with value and pointer receivers and assorted signatures.
type Account struct {
	Owner   string
	Balance int64
	Tags    []string
}

func (a Account) Total(extra ...int64) int64 {
	t := a.Balance
	for _, e := range extra {
		t += e
	}
	return t
}

func (a *Account) Deposit(n int64, memo string) (int64, error) {
	if n < 0 {
		return a.Balance, errors.New("negative deposit: " + memo)
	}
	a.Balance += n
	return a.Balance, nil
}

func (a *Account) Tag(t string, p *Point, m map[string]int) bool {
	a.Tags = append(a.Tags, t)
	return p != nil && m != nil
}

func (a Account) Flags(b bool, f float64, c complex128, u uint8) (Named, Labels) {
	if b {
		return Named(f), Labels{a.Owner: {fmt.Sprint(c, u)}}
	}
	return 0, nil
}

// ConsoleLogger's Log is called through the Logger interface only.
type ConsoleLogger struct {
	prefix string
	count  int
}

func (c *ConsoleLogger) Log(msg string, level int) int {
	c.count += level + len(msg)
	return c.count
}

// runner and its implementation are unexported: reflect cannot reach run,
// only the itab of runner for *job can.
type runner interface {
	run(n int) int
}

type job struct{ done int }

func (j *job) run(n int) int {
	j.done += n
	return j.done
}

type idle struct{}

func (idle) run(n int) int { return 0 }

// pick hides the concrete types from the compiler, which would otherwise
// call the methods directly rather than through itabs.
//
//go:noinline
func pick(k int, logger *ConsoleLogger) (runner, Logger, interface{ Write([]byte) (int, error) }) {
	if k < 0 {
		return idle{}, nil, nil
	}
	return &job{}, logger, byteCounter(k)
}

// byteCounter has a value receiver method called through an interface.
type byteCounter int

func (b byteCounter) Write(p []byte) (int, error) { return len(p) + int(b), nil }

var sink []interface{}

func main() {
	n := flag.Int("n", 1, "rounds")
	flag.Parse()
	logger := &ConsoleLogger{prefix: "log"}
	r, l, w := pick(len(os.Args), logger)
	sum := int64(0)
	for i := 0; i < *n; i++ {
		a := &Account{Owner: "ann", Balance: 100}
		bal, _ := a.Deposit(int64(i), "round")
		a.Tag("t", &Point{1, 2}, map[string]int{"a": 1})
		nm, _ := a.Flags(true, 2.5, complex(1, 2), 3)
		sum += bal + a.Total(1, 2) + int64(nm)
		sum += int64(r.run(i) + l.Log("x", i))
		k, _ := w.Write([]byte("abc"))
		sum += int64(k)
		bi := &Box[int]{}
		bs := &Box[string]{}
		sum += int64(bi.Put(i) + bs.Put("s") + bi.Get() + len(bs.Get()))
		d := &Derived{Base: Base{ID: 7, Name: "d"}, Point: &Point{3, 4}, Logger: logger}
		d.Rename("e")
		sum += int64(len(d.Describe()))
	}
	sink = append(sink, Kinds{}, &Kinds{}, Derived{}, &Derived{}, Box[int]{}, &Box[int]{},
		Box[string]{}, &Box[string]{}, Pair[string, Point]{}, &Pair[int, []byte]{},
		Account{}, &Account{}, Base{}, &Base{}, logger, r, Named(0), Labels{}, w)
	// reflect keeps every exported method of the types above in their method tables
	for _, v := range sink {
		if m := reflect.ValueOf(v).MethodByName(os.Getenv("RTYPES_METHOD")); m.IsValid() {
			sum++
		}
	}
	fmt.Println("sum", sum)
}
