// SPDX-License-Identifier: BSD-2-Clause

// httpget is an HTTP client for the tests of luprobe.http's client side: it
// sends the requests given as METHOD URL pairs, one after the other, through
// one net/http.Client, and prints for each what the client itself saw:
//
//	httpget GET http://127.0.0.1:PORT/users/1 POST http://... ...
//
// prints "GET http://127.0.0.1:PORT/users/1 200 LATENCY_NS" per request, or
// "GET URL error LATENCY_NS" when the client returned an error, then "done".
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 || len(args)%2 != 0 {
		fmt.Fprintln(os.Stderr, "usage: httpget METHOD URL [METHOD URL ...]")
		os.Exit(2)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < len(args); i += 2 {
		method, url := args[i], args[i+1]
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader("item=book")
		}
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// a header per request, as a client that propagates request ids sets it
		req.Header.Set("X-Request-Id", fmt.Sprintf("req-%d", i/2))
		// the first request in the trace of the caller's span, as an
		// instrumented client would send it
		if tp := os.Getenv("HTTPGET_TRACEPARENT"); tp != "" && i == 0 {
			req.Header.Set("traceparent", tp)
		}
		t0 := time.Now()
		resp, err := c.Do(req)
		took := time.Since(t0).Nanoseconds()
		if err != nil {
			fmt.Printf("%s %s error %d\n", method, url, took)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %s %d %d\n", method, url, resp.StatusCode, took)
	}
	fmt.Println("done")
}
