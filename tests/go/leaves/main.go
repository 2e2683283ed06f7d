// SPDX-License-Identifier: BSD-2-Clause

// leaves calls small frameless functions in every way Go can reach one, for
// the tests of call-site probes: a function whose every call is a direct
// CALL is probed there; one reached any other way must not be.
//
//	leaves -n N      run each kind of call N times and print the counts
//	leaves -wait     first read a line from stdin (a test attaches meanwhile)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sync"
)

// direct is only ever called directly: from main, from a goroutine, from a
// deferred call and from a closure.
//
//go:noinline
func direct(a int, s string) int {
	return a*3 + len(s)
}

// valued is also called through a function value: its call sites are not
// all its calls.
//
//go:noinline
func valued(a int) int {
	return a ^ 0x55
}

type T struct{ k int }

type Ier interface{ Meth(int) int }

// Meth is a method: reached through interfaces and method tables.
//
//go:noinline
func (t T) Meth(a int) int {
	return a + t.k
}

var sink int

func deferred(n int) {
	defer func() { sink += direct(n, "deferred") }()
}

func main() {
	n := flag.Int("n", 1000, "calls of each kind")
	wait := flag.Bool("wait", false, "read a line from stdin before the first call")
	flag.Parse()
	if *wait {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	var direct1, direct2, direct3, direct4 int
	for i := 0; i < *n; i++ {
		sink += direct(i, "main")
		direct1++
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < *n; i++ {
			sink += direct(i, "goroutine")
		}
	}()
	wg.Wait()
	direct2 = *n
	for i := 0; i < *n; i++ {
		deferred(i)
		direct3++
	}
	call := func(i int) int { return direct(i, "closure") }
	for i := 0; i < *n; i++ {
		sink += call(i)
		direct4++
	}

	f := valued
	for i := 0; i < *n; i++ {
		sink += valued(i) + f(i)
	}

	var t T = T{k: 1}
	var it Ier = t
	for i := 0; i < *n; i++ {
		sink += t.Meth(i) + it.Meth(i)
	}
	fmt.Printf("direct %d valued %d meth %d sink %d\n", direct1+direct2+direct3+direct4, 2**n, 2**n, sink)
}
