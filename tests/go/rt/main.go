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
//
//	rt -leak 3 -alloc 1000 -block 200 -hold 1500
//
// adds: 3 goroutines running main.leak that block forever on a channel
// nobody sends to ("leaked 3"); 1000 objects of type main.Obj (48 bytes)
// allocated one by one ("alloc 1000 48"); main blocking on a channel receive
// until a goroutine sends after sleeping 200 ms ("blocked NS": the wait as
// main measured it, in ns); then sleeps 1500 ms before the end. Before
// "done" it always prints "memstats numgc N pausetotal NS": NumGC and
// PauseTotalNs of runtime.MemStats, the whole run's stop-the-world pauses.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Obj is what -alloc allocates: 48 bytes, no pointers.
type Obj struct{ A, B, C, D, E, F int64 }

var (
	never = make(chan int) // nothing is ever sent: main.leak blocks forever
	kept  []*Obj
)

//go:noinline
func leak() { <-never }

//go:noinline
func allocate(n int) {
	kept = make([]*Obj, n)
	for i := range kept {
		kept[i] = &Obj{A: int64(i)}
	}
}

//go:noinline
func workerA(wg *sync.WaitGroup) { wg.Done() }

//go:noinline
func workerB(wg *sync.WaitGroup) { wg.Done() }

//go:noinline
func recovered(v interface{}) (got interface{}) {
	defer func() { got = recover() }()
	panic(v)
}

// blockOnChannel waits for a goroutine that sends after ms milliseconds
// (outside main.main, whose go statements' wrappers keep their names).
//
//go:noinline
func blockOnChannel(ms int) time.Duration {
	ch := make(chan int)
	go func() {
		time.Sleep(time.Duration(ms) * time.Millisecond)
		ch <- 1
	}()
	t := time.Now()
	<-ch
	return time.Since(t)
}

func main() {
	a := flag.Int("a", 0, "goroutines running workerA")
	b := flag.Int("b", 0, "goroutines running workerB")
	gcs := flag.Int("gc", 0, "forced garbage collections")
	rec := flag.Int("recovered", 0, "recovered panics with a string value (and one with an error)")
	die := flag.Bool("die", false, "end with a panic nothing recovers")
	leaks := flag.Int("leak", 0, "goroutines running main.leak, blocked forever")
	allocs := flag.Int("alloc", 0, "objects of type main.Obj allocated")
	block := flag.Int("block", 0, "ms main blocks on a channel receive")
	hold := flag.Int("hold", 0, "ms to sleep before the end")
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
	for i := 0; i < *leaks; i++ {
		go leak()
	}
	if *leaks > 0 {
		fmt.Printf("leaked %d\n", *leaks)
	}
	if *allocs > 0 {
		allocate(*allocs)
		fmt.Printf("alloc %d %d\n", len(kept), unsafe.Sizeof(Obj{}))
	}
	if *block > 0 {
		fmt.Printf("blocked %d\n", blockOnChannel(*block).Nanoseconds())
	}
	time.Sleep(time.Duration(*hold) * time.Millisecond)
	runtime.ReadMemStats(&ms)
	fmt.Printf("memstats numgc %d pausetotal %d\n", ms.NumGC, ms.PauseTotalNs)
	fmt.Println("done")
	os.Stdout.Sync()
	if *die {
		panic("the end")
	}
}
