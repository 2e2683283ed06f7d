// SPDX-License-Identifier: BSD-2-Clause

// spawn is a request handler that does its work on goroutines it starts,
// for scopes that follow spawned goroutines and for speculations. Each
// request runs on a goroutine of its own (as net/http's are); its handler
// calls inner once itself and starts workers that call inner and start one
// sub-worker each, which calls inner too. Meanwhile an unrelated goroutine,
// started before any request, calls inner as well. Slow requests sleep
// after their workers are done.
//
//	spawn -n N -workers W -slow S -bg B   N requests, every S-th slow (i%S == S-1),
//	                                      B calls of inner by the unrelated goroutine
//	spawn ... -parallel                   the N requests at once: each handler waits,
//	                                      after its own call of inner, until all made theirs
//	spawn -flood F                        one request whose handler starts F workers
//	                                      that are all alive at once, then call inner
//	spawn -addr A                         HTTP: /req?i=N&workers=W&ms=M queries the
//	                                      database (fakedb) on W workers, sleeps M ms;
//	                                      /bg?n=N queries N times on a goroutine of its
//	                                      own; /quit exits
//
// inner(req, who): who is 0 in the handler, 1 in a worker, 2 in a sub-worker,
// 3 in the unrelated goroutine. Prints "done" at the end.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	_ "luprobe.test/webapp/fakedb"
)

var sink int64

// -parallel: every handler waits, after its first call of inner, until all
// have made theirs, so that all the requests are open at once
var (
	arrived sync.WaitGroup
	gate    chan struct{}
)

//go:noinline
func inner(req, who int) int {
	sink += int64(req*10 + who)
	return who
}

// handle is the request: the outer call of scopes and speculations.
//
//go:noinline
func handle(req, workers int, slow bool) int {
	var wg sync.WaitGroup
	inner(req, 0)
	if gate != nil {
		arrived.Done()
		<-gate
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inner(req, 1)
			var sub sync.WaitGroup
			sub.Add(1)
			go func() {
				defer sub.Done()
				inner(req, 2)
			}()
			sub.Wait()
		}()
	}
	wg.Wait()
	if slow {
		time.Sleep(250 * time.Millisecond)
	}
	return req
}

// flood starts f workers that wait until all are alive, then call inner.
//
//go:noinline
func flood(req, f int) int {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < f; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			inner(req, 1)
		}()
	}
	close(start)
	wg.Wait()
	return req
}

// unrelated calls inner b times, interleaved with the requests.
func unrelated(b int, done chan<- bool) {
	for i := 0; i < b; i++ {
		inner(-1, 3)
		time.Sleep(time.Millisecond)
	}
	done <- true
}

var db *sql.DB

//go:noinline
func lookup(ctx context.Context, id int) string {
	var name string
	db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", id).Scan(&name)
	return name
}

// serveReq is the HTTP handler: W workers query the database, then it sleeps.
//
//go:noinline
func serveReq(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	i, _ := strconv.Atoi(q.Get("i"))
	workers, _ := strconv.Atoi(q.Get("workers"))
	ms, _ := strconv.Atoi(q.Get("ms"))
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			lookup(r.Context(), 1+(i+k)%5)
		}(k)
	}
	wg.Wait()
	time.Sleep(time.Duration(ms) * time.Millisecond)
	fmt.Fprintf(w, "ok %d\n", i)
}

func serve(addr string) {
	var err error
	db, err = sql.Open("fakedb", "spawn")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	http.HandleFunc("/req", serveReq)
	http.HandleFunc("/bg", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		done := make(chan bool)
		go func() {
			for k := 0; k < n; k++ {
				lookup(context.Background(), 1+k%5)
			}
			done <- true
		}()
		<-done
		fmt.Fprintf(w, "bg %d\n", n)
	})
	http.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		go func() {
			time.Sleep(50 * time.Millisecond)
			os.Exit(0)
		}()
	})
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		// said once it listens: a client may connect at once
		fmt.Printf("listening on %s\n", addr)
		err = http.Serve(ln, nil)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	n := flag.Int("n", 6, "requests")
	workers := flag.Int("workers", 3, "workers per request")
	slowEvery := flag.Int("slow", 3, "every this many requests one is slow")
	bg := flag.Int("bg", 20, "calls of inner by the unrelated goroutine")
	fl := flag.Int("flood", 0, "workers of the one flood request")
	parallel := flag.Bool("parallel", false, "all requests at once")
	addr := flag.String("addr", "", "serve HTTP on this address")
	flag.Parse()
	if *addr != "" {
		serve(*addr)
	}
	if *fl > 0 {
		done := make(chan int)
		go func() { done <- flood(0, *fl) }()
		<-done
		fmt.Println("done")
		return
	}
	bgDone := make(chan bool)
	go unrelated(*bg, bgDone)
	if *parallel {
		gate = make(chan struct{})
		arrived.Add(*n)
		done := make(chan int)
		for i := 0; i < *n; i++ {
			go func(i int) { done <- handle(i, *workers, i%*slowEvery == *slowEvery-1) }(i)
		}
		arrived.Wait()
		close(gate)
		for i := 0; i < *n; i++ {
			<-done
		}
		<-bgDone
		fmt.Println("done")
		return
	}
	for i := 0; i < *n; i++ {
		done := make(chan int)
		go func(i int) { done <- handle(i, *workers, i%*slowEvery == *slowEvery-1) }(i)
		<-done
	}
	<-bgDone
	fmt.Println("done")
}
