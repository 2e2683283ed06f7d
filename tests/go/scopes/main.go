// SPDX-License-Identifier: BSD-2-Clause

// scopes exercises within = q: q is entered many times, calls p inside
// itself, and leaves in every way a Go frame can: it returns, it panics and
// its caller recovers (as net/http's conn.serve does), or it calls
// runtime.Goexit. p is also called outside q, at q's depth and deeper than
// q's old frame, on the same goroutine and on new goroutines, which reuse
// the g structs of the goroutines that ended.
//
//	scopes -n N          N rounds in each phase, then print "done"
//	scopes -addr A       an HTTP server whose handler panics on odd ?i=
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
)

const (
	modePanic  = iota // q panics on odd calls, its caller recovers
	modeGoexit        // q calls runtime.Goexit
)

var sink int

// p reports where it was called from: 1 inside q, 0 outside.
//
//go:noinline
func p(where int) int {
	sink += where
	return where
}

//go:noinline
func deeper(n, where int) int {
	if n == 0 {
		return p(where)
	}
	return deeper(n-1, where) + 1
}

// q calls p twice: directly and four frames down.
//
//go:noinline
func q(i, mode int) {
	p(1)
	deeper(3, 1)
	if mode == modeGoexit {
		runtime.Goexit()
	}
	if i%2 == 1 {
		panic(i)
	}
}

// serve recovers what q panics with, as net/http's conn.serve does.
//
//go:noinline
func serve(i, mode int) {
	defer func() { recover() }()
	q(i, mode)
}

// outside calls p deeper than q's frame was, then at q's depth: the first
// call after a recovered panic is deeper than the frame that panicked.
//
//go:noinline
func outside() {
	deeper(10, 0)
	p(0)
}

func round(i, mode int) {
	outside()
	serve(i, mode)
	outside()
}

func main() {
	n := flag.Int("n", 10, "rounds in each phase")
	addr := flag.String("addr", "", "serve HTTP on this address")
	flag.Parse()
	if *addr != "" {
		http.HandleFunc("/h", func(w http.ResponseWriter, r *http.Request) {
			i, _ := strconv.Atoi(r.URL.Query().Get("i"))
			p(1)
			if i%2 == 1 {
				panic(fmt.Sprintf("odd request %d", i))
			}
			fmt.Fprintf(w, "ok %d\n", i)
		})
		ln, err := net.Listen("tcp", *addr)
		if err == nil {
			// said once it listens: a client may connect at once
			fmt.Printf("listening on %s\n", *addr)
			err = http.Serve(ln, nil)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// one goroutine, round after round
	for i := 0; i < *n; i++ {
		round(i, modePanic)
	}
	// a new goroutine per round: each reuses the g of the one before
	for i := 0; i < *n; i++ {
		done := make(chan bool)
		go func(i int) {
			defer close(done)
			round(i, modePanic)
		}(i)
		<-done
	}
	// q ends its goroutine with runtime.Goexit; the next one starts outside q
	for i := 0; i < *n; i++ {
		done := make(chan bool)
		go func(i int) {
			defer close(done)
			round(i, modeGoexit)
		}(i)
		<-done
	}
	fmt.Println("done")
}
