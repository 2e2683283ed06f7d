// SPDX-License-Identifier: BSD-2-Clause

// keys calls small functions a known number of times from known goroutines,
// processes and call paths, with known values and durations, and prints its
// own counts: the truth the tests of keys (pid, tid, comm, goid, stack) and
// of histogram statistics check luprobe against.
//
//	keys -mode goroutines -g G  work(i) 10*k times in goroutine k (1..G), 7 times in main;
//	                            prints "goroutine ID calls N" for each
//	keys -mode count -n N       work(i) N times; prints "pid PID calls N"
//	keys -mode paths -a A -b B  leaf(i) A times from pathA, B times from pathB (through mid);
//	                            prints "pathA A" and "pathB B"
//	keys -mode values -n N      val(v) for v = 1..N
//	keys -mode spins -a A -b B  spin(us) A times for 80 µs, B times for 5 ms (busy, at
//	                            least that long); prints "spin p50 NS p90 NS p99 NS"
//	                            from its own clock
//
// Each mode prints "done" when its calls are made.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

var sink int64

//go:noinline
func work(i int) int64 { sink += int64(i); return sink }

//go:noinline
func leaf(i int) int64 { sink += int64(i); return sink }

//go:noinline
func pathA(i int) int64 { return leaf(i) + 1 }

//go:noinline
func mid(i int) int64 { return leaf(i) + 2 }

//go:noinline
func pathB(i int) int64 { return mid(i) + 3 }

//go:noinline
func val(v int64) int64 { sink += v; return v }

//go:noinline
func spin(us int) int64 {
	end := time.Now().Add(time.Duration(us) * time.Microsecond)
	n := int64(0)
	for time.Now().Before(end) {
		n++
	}
	return n
}

// goid reads this goroutine's id from its traceback header ("goroutine 18 [running]:").
func goid() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(buf)
	id, _ := strconv.Atoi(string(f[1]))
	return id
}

func pct(d []time.Duration, q float64) time.Duration {
	r := int(q*float64(len(d)) + 0.999999)
	if r < 1 {
		r = 1
	}
	return d[r-1]
}

func main() {
	mode := flag.String("mode", "", "goroutines, count, paths, values or spins")
	g := flag.Int("g", 4, "goroutines")
	n := flag.Int("n", 10, "calls or values")
	a := flag.Int("a", 300, "calls of the first kind")
	b := flag.Int("b", 200, "calls of the second kind")
	flag.Parse()

	switch *mode {
	case "goroutines":
		var wg sync.WaitGroup
		var mu sync.Mutex
		lines := []string{}
		for k := 1; k <= *g; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				for i := 0; i < 10*k; i++ {
					work(i)
				}
				mu.Lock()
				lines = append(lines, fmt.Sprintf("goroutine %d calls %d", goid(), 10*k))
				mu.Unlock()
			}(k)
			wg.Wait() // one at a time: each goroutine its own id, none reused
		}
		for i := 0; i < 7; i++ {
			work(i)
		}
		lines = append(lines, fmt.Sprintf("goroutine %d calls %d", goid(), 7))
		for _, l := range lines {
			fmt.Println(l)
		}
	case "count":
		for i := 0; i < *n; i++ {
			work(i)
		}
		fmt.Printf("pid %d calls %d\n", os.Getpid(), *n)
	case "paths":
		for i := 0; i < *a; i++ {
			pathA(i)
		}
		for i := 0; i < *b; i++ {
			pathB(i)
		}
		fmt.Printf("pathA %d\npathB %d\n", *a, *b)
	case "values":
		for v := 1; v <= *n; v++ {
			val(int64(v))
		}
	case "spins":
		var d []time.Duration
		for i := 0; i < *a+*b; i++ {
			us := 80
			if i >= *a {
				us = 5000
			}
			t := time.Now()
			spin(us)
			d = append(d, time.Since(t))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Printf("spin p50 %d p90 %d p99 %d\n", pct(d, 0.5), pct(d, 0.9), pct(d, 0.99))
	default:
		fmt.Fprintln(os.Stderr, "keys: -mode goroutines, count, paths, values or spins")
		os.Exit(2)
	}
	fmt.Println("done")
}
