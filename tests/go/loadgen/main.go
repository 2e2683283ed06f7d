// SPDX-License-Identifier: BSD-2-Clause

// loadgen is a loopback load generator for the webapp target: workers send
// GET /users/ID for IDs cycling over 0..13 as fast as the server answers,
// for a fixed time, and check every answer against what the webapp's
// database holds.
//
//	loadgen -addr 127.0.0.1:PORT [-c 8] [-d 60s]
//
// At the end it prints "requests N wrong N", then "id ID N" for each ID, and
// exits 1 if any answer was wrong or a request failed.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// what GET /users/ID answers (tests/go/webapp/fakedb holds users 1-5, fails on 13)
func expected(id int) (int, string) {
	names := map[int]string{1: "alice", 2: "bob", 3: "carol", 4: "dave", 5: "erin"}
	if n, ok := names[id]; ok {
		return 200, n + "\n"
	}
	if id == 13 {
		return 500, "fakedb: row 13 is locked\n"
	}
	return 404, "no such user\n"
}

const ids = 14

func main() {
	addr := flag.String("addr", "", "server address")
	workers := flag.Int("c", 8, "concurrent requests")
	dur := flag.Duration("d", 60*time.Second, "how long")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -addr is required")
		os.Exit(2)
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *workers},
	}
	var (
		wrong  atomic.Int64
		counts [ids]atomic.Int64
		wg     sync.WaitGroup
		first  sync.Once
	)
	end := time.Now().Add(*dur)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Now().Before(end); i += *workers {
				id := i % ids
				resp, err := client.Get(fmt.Sprintf("http://%s/users/%d", *addr, id))
				if err != nil {
					wrong.Add(1)
					first.Do(func() { fmt.Fprintln(os.Stderr, "loadgen:", err) })
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				code, want := expected(id)
				if err != nil || resp.StatusCode != code || string(body) != want {
					wrong.Add(1)
					first.Do(func() {
						fmt.Fprintf(os.Stderr, "loadgen: /users/%d: %d %q, want %d %q\n",
							id, resp.StatusCode, body, code, want)
					})
					continue
				}
				counts[id].Add(1)
			}
		}(w)
	}
	wg.Wait()
	var total int64
	for i := range counts {
		total += counts[i].Load()
	}
	fmt.Printf("requests %d wrong %d\n", total+wrong.Load(), wrong.Load())
	for i := range counts {
		fmt.Printf("id %d %d\n", i, counts[i].Load())
	}
	if wrong.Load() > 0 {
		os.Exit(1)
	}
}
