// SPDX-License-Identifier: BSD-2-Clause

// rt exercises the Go runtime for the tests of luprobe.runtime, and prints
// what it did as the runtime itself counts it:
//
//	rt -a 5 -b 3 -gc 4 -recovered 2 [-die]
//
// starts 5 goroutines running main.workerA and 3 running main.workerB (each
// waits for the others to start, then ends), forces 4 garbage collections
// (printing "gc N total T": runtime.MemStats.NumGC's increase, and NumGC), panics and
// recovers 2 times with a string value and once with an error, then prints
// "done"; -die then panics with "the end" and nothing recovers it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
)

//go:noinline
func workerA(wg *sync.WaitGroup) { wg.Done() }

//go:noinline
func workerB(wg *sync.WaitGroup) { wg.Done() }

//go:noinline
func recovered(v interface{}) (got interface{}) {
	defer func() { got = recover() }()
	panic(v)
}

func main() {
	a := flag.Int("a", 0, "goroutines running workerA")
	b := flag.Int("b", 0, "goroutines running workerB")
	gcs := flag.Int("gc", 0, "forced garbage collections")
	rec := flag.Int("recovered", 0, "recovered panics with a string value (and one with an error)")
	die := flag.Bool("die", false, "end with a panic nothing recovers")
	flag.Parse()

	var wg sync.WaitGroup
	wg.Add(*a + *b)
	for i := 0; i < *a; i++ {
		go workerA(&wg)
	}
	for i := 0; i < *b; i++ {
		go workerB(&wg)
	}
	wg.Wait()
	fmt.Printf("goroutines %d %d\n", *a, *b)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.NumGC
	for i := 0; i < *gcs; i++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	fmt.Printf("gc %d total %d\n", ms.NumGC-before, ms.NumGC)

	for i := 0; i < *rec; i++ {
		fmt.Printf("recovered %v\n", recovered(fmt.Sprintf("boom %d", i)))
	}
	if *rec > 0 {
		fmt.Printf("recovered %v\n", recovered(errors.New("an error value")))
	}
	fmt.Println("done")
	os.Stdout.Sync()
	if *die {
		panic("the end")
	}
}
