// SPDX-License-Identifier: BSD-2-Clause

// maps passes maps of known contents to traced functions, once each, in a
// fixed order, so that tests can check luprobe's lookups of m["key"]
// against what the program prints:
//
//	small  map[string]string, 5 entries ("alpha": "one" ... "echo": "five")
//	big    map[string]string, 100 entries ("k0": "v0" ... "k99": "v99")
//	huge   map[string]string, 1000 entries (beyond what the kernel scans)
//	grow   map[string]string, 53 entries inserted one by one: the 53rd starts
//	       a growth of an hmap (Go <= 1.23), which nothing finishes
//	empty  map[string]string{}
//	nilmap a nil map[string]string
//	ints   map[int64]int32 {-5: -50, 7: 70, 1 << 40: 99}
//	bytes  map[uint8]string, 100 entries (i: "b<i>")
//	header map[string][]string, an http.Header's shape, 12 entries
//	large  map[string][20]int64 (elements over 128 bytes are stored apart)
//	pairs  map[string]Pair
//
// Each call prints "name len(m)"; "done" at the end.
package main

import (
	"fmt"
)

type Pair struct {
	N int32
	S string
}

var sink int

//go:noinline
func touch(n int) { sink += n }

//go:noinline
func small(m map[string]string) int { touch(len(m)); return len(m) }

//go:noinline
func big(m map[string]string) int { touch(len(m)); return len(m) }

//go:noinline
func huge(m map[string]string) int { touch(len(m)); return len(m) }

//go:noinline
func grow(m map[string]string) int { touch(len(m)); return len(m) }

//go:noinline
func empty(m map[string]string) int { touch(len(m)); return len(m) }

//go:noinline
func nilmap(m map[string]string) int { touch(len(m)); return len(m) }

//go:noinline
func ints(m map[int64]int32) int { touch(len(m)); return len(m) }

//go:noinline
func bytes(m map[uint8]string) int { touch(len(m)); return len(m) }

//go:noinline
func header(h map[string][]string) int { touch(len(h)); return len(h) }

//go:noinline
func large(m map[string][20]int64) int { touch(len(m)); return len(m) }

//go:noinline
func pairs(m map[string]Pair) int { touch(len(m)); return len(m) }

func strs(n int, kp, vp string) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("%s%d", kp, i)] = fmt.Sprintf("%s%d", vp, i)
	}
	return m
}

func main() {
	fmt.Println("small", small(map[string]string{
		"alpha": "one", "bravo": "two", "charlie": "three", "delta": "four", "echo": "five",
	}))
	fmt.Println("big", big(strs(100, "k", "v")))
	fmt.Println("huge", huge(strs(1000, "k", "v")))
	fmt.Println("grow", grow(strs(53, "g", "w")))
	fmt.Println("empty", empty(map[string]string{}))
	fmt.Println("nilmap", nilmap(nil))
	fmt.Println("ints", ints(map[int64]int32{-5: -50, 7: 70, 1 << 40: 99}))
	b := map[uint8]string{}
	for i := 0; i < 100; i++ {
		b[uint8(i)] = fmt.Sprintf("b%d", i)
	}
	fmt.Println("bytes", bytes(b))
	h := map[string][]string{
		"X-Request-Id": {"req-42"},
		"Traceparent":  {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		"Accept":       {"text/plain", "application/json"},
	}
	for i := 0; i < 9; i++ {
		h[fmt.Sprintf("X-Filler-%d", i)] = []string{fmt.Sprint(i)}
	}
	fmt.Println("header", header(h))
	var a [20]int64
	for i := range a {
		a[i] = int64(i * 11)
	}
	fmt.Println("large", large(map[string][20]int64{"a": a, "z": {}}))
	fmt.Println("pairs", pairs(map[string]Pair{"p": {N: 7, S: "seven"}, "q": {N: -1, S: ""}}))
	fmt.Println("done")
}
