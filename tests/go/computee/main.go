// SPDX-License-Identifier: BSD-2-Clause

// computee is the seed program: an HTTP server whose handler for /e?iters=N
// answers with computeE(N), an approximation of e.
//
//	computee [-addr 127.0.0.1:8080]
//
// It prints "listening on ADDR" once the socket is bound, so a test or the
// demo can wait for it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

// computeE computes the approximation of e by running a fixed number of iterations.
//
//go:noinline
func computeE(iterations int64) float64 {
	res := 2.0
	fact := 1.0

	for i := int64(2); i < iterations; i++ {
		fact *= float64(i)
		res += 1 / fact
	}
	return res
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback)")
	flag.Parse()

	http.HandleFunc("/e", func(w http.ResponseWriter, r *http.Request) {
		iters := int64(100)
		if s := r.URL.Query().Get("iters"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				http.Error(w, "iters: "+err.Error(), http.StatusBadRequest)
				return
			}
			iters = n
		}
		w.Write([]byte(fmt.Sprintf("e = %0.4f\n", computeE(iters))))
	})
	http.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		// the whole answer is on the wire before the process exits
		w.Header().Set("Content-Length", "4")
		w.Write([]byte("bye\n"))
		w.(http.Flusher).Flush()
		os.Exit(0)
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, nil))
}
