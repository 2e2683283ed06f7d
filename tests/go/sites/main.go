// SPDX-License-Identifier: BSD-2-Clause

// sites has functions whose probe sites or signatures are special, for the
// tests of what luprobe refuses, counts and reads there:
//
//   - compute, a plain function called every round (tests corrupt copies of
//     this binary's function table around it);
//   - (*Outer).Bump, a wrapper the compiler ends with a tail call (JMP) to
//     (*Inner).Bump: it has no RET of its own;
//   - loadp, whose *uintptr parameter Go 1.19 describes in DWARF with kind 0;
//   - inner, called inside outer and outside it, for `within` and `where`;
//   - blocked, a call that is in progress while a test attaches.
//
//	sites [-rounds N] [-block]
//
// Each round prints one line with the results of its calls, the same every
// run. With -block, main first calls blocked, which prints "blocked" and
// returns when a line arrives on stdin.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

var sink int

// touch gives the functions below a call, hence a frame and a stack check.
//
//go:noinline
func touch() { sink++ }

//go:noinline
func compute(n int) int {
	touch()
	return n*n + 7
}

type Inner struct{ n int }

//go:noinline
func (i *Inner) Bump(d int) int {
	touch()
	i.n += d
	return i.n
}

// Outer promotes Bump from *Inner: the compiler's wrapper loads the
// embedded pointer and jumps to (*Inner).Bump.
type Outer struct {
	*Inner
	name string
}

type Bumper interface{ Bump(int) int }

//go:noinline
func loadp(p *uintptr, n int) uintptr {
	touch()
	return *p + uintptr(n)
}

//go:noinline
func inner(n int) int {
	touch()
	return n + 100
}

//go:noinline
func outer(n int) int {
	touch()
	return inner(n) + inner(n+1)
}

//go:noinline
func blocked(in *bufio.Reader) int {
	touch()
	fmt.Println("blocked")
	line, _ := in.ReadString('\n')
	return len(line)
}

// bumpers holds both through the interface, so the wrapper is compiled and called.
var bumpers = []Bumper{&Outer{Inner: &Inner{}, name: "outer"}, &Inner{}}

func main() {
	rounds := flag.Int("rounds", 1, "run `N` rounds")
	block := flag.Bool("block", false, "first call blocked, which waits for a line on stdin")
	flag.Parse()
	if *block {
		fmt.Printf("blocked read %d bytes\n", blocked(bufio.NewReader(os.Stdin)))
	}
	for r := 1; r <= *rounds; r++ {
		c := compute(r)
		// inner: 3 calls outside outer (n = r, 10r, 100r), 2 inside (n = r, r+1)
		i := inner(r) + inner(10*r) + inner(100*r)
		o := outer(r)
		x := uintptr(40 + r)
		l := loadp(&x, r)
		b := bumpers[0].Bump(r)
		fmt.Printf("round %d: compute %d, inner %d, outer %d, loadp %d, bump %d\n", r, c, i, o, l, b)
	}
}
