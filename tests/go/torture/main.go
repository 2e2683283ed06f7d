// SPDX-License-Identifier: BSD-2-Clause

// torture exercises what breaks naive Go tracers: deep recursion that grows
// and copies goroutine stacks again and again, many goroutines migrating
// between threads, panics that unwind frames without returning, and
// functions returning every kind of value. Its output is deterministic, so a
// test can check that tracing changes nothing.
//
//	torture [-depth N] [-goroutines N] [-panics N] [-sleep MS] [-rounds N]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// recurse has a large frame, so each level eats stack and the runtime must
// grow (and copy) the stack many times on the way down.
//
//go:noinline
func recurse(n int) int {
	var pad [32]int
	pad[n%32] = n
	if n == 0 {
		return pad[0]
	}
	return recurse(n-1) + pad[n%32] - n + 1
}

//go:noinline
func work(id int, rounds int) int {
	sum := 0
	for i := 0; i < rounds; i++ {
		sum += step(id, i)
		runtime.Gosched() // invite migration to another thread
	}
	return sum
}

//go:noinline
func step(id, i int) int {
	return id*7 + i
}

// mayPanic panics for odd n; the panic unwinds through it without a RET.
//
//go:noinline
func mayPanic(n int) int {
	if n%2 == 1 {
		panic(fmt.Sprintf("odd %d", n))
	}
	return n / 2
}

//go:noinline
func guarded(n int) (r int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("recovered: %v", p)
		}
	}()
	return mayPanic(n), nil
}

// alwaysPanics has no RET at all: return probes cannot be placed on it.
//
//go:noinline
func alwaysPanics(n int) {
	panic(fmt.Sprintf("always %d", n))
}

//go:noinline
func sleepy(ms int) int {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms
}

type pair struct {
	A int
	B string
}

//go:noinline
func retInt() int { return -42 }

//go:noinline
func retStr() string { return "torture" }

//go:noinline
func retErr(fail bool) error {
	if fail {
		return errors.New("boom")
	}
	return nil
}

//go:noinline
func retMulti() (int, string, error) { return 7, "seven", nil }

//go:noinline
func retBool() bool { return true }

//go:noinline
func retSlice() []int { return []int{1, 2, 3} }

//go:noinline
func retStruct() pair { return pair{A: 5, B: "five"} }

//go:noinline
func retPtr() *pair { return &pair{A: 6, B: "six"} }

func main() {
	depth := flag.Int("depth", 10000, "recursion depth")
	goroutines := flag.Int("goroutines", 1000, "goroutines")
	panics := flag.Int("panics", 100, "calls of guarded (every odd one panics)")
	sleepMs := flag.Int("sleep", 0, "call sleepy with this many ms (0: no call)")
	rounds := flag.Int("rounds", 20, "steps per goroutine")
	flag.Parse()

	fmt.Printf("recurse(%d) = %d\n", *depth, recurse(*depth))

	var wg sync.WaitGroup
	base := runtime.NumGoroutine()
	sums := make([]int, *goroutines)
	for g := 0; g < *goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			sums[g] = work(g, *rounds)
		}(g)
	}
	wg.Wait()
	// Each goroutine signals from a deferred call, before its functions
	// return: wait until they are gone, or the program could exit (os.Exit
	// below) with a return still to come, and a test that pairs every call
	// would miss it.
	for runtime.NumGoroutine() > base {
		time.Sleep(time.Millisecond)
	}
	total := 0
	for _, s := range sums {
		total += s
	}
	fmt.Printf("work total = %d over %d goroutines\n", total, *goroutines)

	recovered := 0
	for i := 0; i < *panics; i++ {
		if _, err := guarded(i); err != nil {
			recovered++
		}
	}
	fmt.Printf("guarded: %d calls, %d recovered\n", *panics, recovered)
	func() {
		defer func() { recover() }()
		alwaysPanics(*panics)
	}()

	if *sleepMs > 0 {
		fmt.Printf("sleepy(%d) = %d\n", *sleepMs, sleepy(*sleepMs))
	}

	m1, m2, m3 := retMulti()
	fmt.Println(retInt(), retStr(), retErr(true), retErr(false), m1, m2, m3, retBool(),
		retSlice(), retStruct(), *retPtr())
	os.Exit(0)
}
