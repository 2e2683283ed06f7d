// SPDX-License-Identifier: BSD-2-Clause

// lifecycle is a short-lived program whose traced calls carry code and type
// addresses (a func value, an interface), for the tests of PIE load biases
// and of processes that re-execute themselves.
//
//	lifecycle -n N               N calls of work, then exit at once
//	lifecycle -n N -exec K       ... then exec itself again, K times, each
//	                             time from a goroutine locked to a thread
//	                             that is not the main thread
//	lifecycle ... -wait          before the calls of each image, wait for a
//	                             line on stdin
//	lifecycle ... -then PROG     after the last image, exec PROG (no arguments)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

type Shape interface{ Area() int }

type Square struct{ Side int }

func (s Square) Area() int { return s.Side * s.Side }

//go:noinline
func double(x int) int { return 2 * x }

var sink int

// work is what the tests trace: gen is the image (0 before the first exec).
//
//go:noinline
func work(gen, i int, fn func(int) int, s Shape) int {
	return gen + fn(i) + s.Area()
}

func init() {
	// main runs on the main thread, so another goroutine can lock another one
	runtime.LockOSThread()
}

func main() {
	n := flag.Int("n", 10, "calls of work")
	execs := flag.Int("exec", 0, "exec itself this many times")
	gen := flag.Int("gen", 0, "this image's number (set by the exec)")
	wait := flag.Bool("wait", false, "wait for a line on stdin before the calls")
	then := flag.String("then", "", "after the last image, exec this program")
	flag.Parse()
	if *wait {
		fmt.Printf("gen %d waiting\n", *gen)
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	for i := 0; i < *n; i++ {
		// heap-allocated (a small value would point into a page the program
		// may not have touched yet, which a probe cannot read)
		sink += work(*gen, i, double, Square{Side: 1000 + i})
	}
	fmt.Printf("gen %d done\n", *gen)
	path, args := "/proc/self/exe", []string{os.Args[0], "-n", strconv.Itoa(*n), "-exec",
		strconv.Itoa(*execs), "-gen", strconv.Itoa(*gen + 1), "-then", *then}
	if *wait {
		args = append(args, "-wait")
	}
	if *gen >= *execs {
		if *then == "" {
			return
		}
		path, args = *then, []string{*then}
	}
	failed := make(chan error)
	go func() {
		runtime.LockOSThread() // never the main thread: main holds it
		if syscall.Gettid() == syscall.Getpid() {
			failed <- fmt.Errorf("on the main thread")
			return
		}
		failed <- syscall.Exec(path, args, os.Environ())
	}()
	fmt.Fprintln(os.Stderr, "exec failed:", <-failed)
	os.Exit(1)
}
