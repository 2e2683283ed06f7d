// SPDX-License-Identifier: BSD-2-Clause

// bench calls one small function as fast as it can, for luprobe's benchmark:
//
//	bench -fn work|frame|leaf|many -n N     call it N times, print "ns/call X"
//	bench -fn work -n 0                     call it until killed
//	bench -wait ...                         print "ready", start on a line from stdin
//
// work(a int64, s string) int64 has a stack-check prologue (it calls
// another function), frame has a large stack frame (a different prologue),
// leaf is frameless (no prologue: probed at its first instruction), many
// calls f000..f099 in turn (for startup with 100 probes).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"
)

var sink int64

//go:noinline
func mix(a int64) int64 { return a*31 + 7 }

//go:noinline
func work(a int64, s string) int64 {
	return mix(a) + int64(len(s))
}

//go:noinline
func frame(a int64, s string) int64 {
	var buf [256]int64
	buf[a&255] = a
	return mix(buf[a&255]) + int64(len(s))
}

//go:noinline
func leaf(a int64, s string) int64 {
	return a*31 + int64(len(s))
}

func main() {
	fn := flag.String("fn", "work", "work, frame, leaf or many")
	n := flag.Int64("n", 10000000, "calls (0: until killed)")
	wait := flag.Bool("wait", false, "after \"ready\", wait for a line on stdin")
	flag.Parse()

	s := "0123456789abcdef" // 16 bytes, as the benchmark streams
	if *fn != "work" && *fn != "frame" && *fn != "leaf" && *fn != "many" {
		fmt.Fprintln(os.Stderr, "bench: unknown -fn", *fn)
		os.Exit(2)
	}
	fmt.Println("ready")
	if *wait {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	start := time.Now()
	var i int64
	// direct calls, not through function values: a function whose address
	// is never taken can be probed at its call sites
	switch *fn {
	case "work":
		for i = 0; *n == 0 || i < *n; i++ {
			sink += work(i, s)
		}
	case "frame":
		for i = 0; *n == 0 || i < *n; i++ {
			sink += frame(i, s)
		}
	case "leaf":
		for i = 0; *n == 0 || i < *n; i++ {
			sink += leaf(i, s)
		}
	default:
		for i = 0; *n == 0 || i < *n; i++ {
			sink += many[i%100](i)
		}
	}
	el := time.Since(start)
	fmt.Printf("ns/call %.2f\n", float64(el.Nanoseconds())/float64(*n))
}
