// SPDX-License-Identifier: BSD-2-Clause

// https is an HTTPS server speaking HTTP/2 and HTTP/1.1 (ALPN) on loopback,
// for testing what luprobe.http reports for each protocol. Its certificate
// is self-signed and made at startup.
//
//	https [-addr 127.0.0.1:8443]  serve; prints "listening on ADDR"
//
// Routes (any method; every status is a fixed one, tests count on them):
//
//	/ok        200, WriteHeader(200) then a body
//	/created   201, WriteHeader(201) then a body
//	/missing   404 (http.NotFound)
//	/fail      500 (http.Error)
//	/implicit  200, a body and no WriteHeader call
//	/empty     200, the handler writes nothing at all
//	/late      200, a body first, then WriteHeader(500), which net/http ignores
//	/hints     202, after an informational 103 Early Hints
//	/other     202, WriteHeader called by another goroutine while the handler waits
//	/panic     no response: the handler panics
//	/invalid   no response: WriteHeader(42) panics in net/http
//	/hijack    HTTP/1: the handler hijacks the connection and writes its own
//	           "200 OK"; HTTP/2 cannot hijack: 501
//	/quit      200 "bye", then exit 0
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"luprobe.test/internal/testcert"
)

func body(w http.ResponseWriter, s string) {
	io.WriteString(w, s+"\n")
}

var (
	quit     = make(chan struct{})
	quitOnce sync.Once
)

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		body(w, "ok")
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		body(w, "created")
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failed", http.StatusInternalServerError)
	})
	mux.HandleFunc("/implicit", func(w http.ResponseWriter, r *http.Request) {
		body(w, "implicit")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		body(w, "late")
		w.WriteHeader(http.StatusInternalServerError) // superfluous: the 200 stays
	})
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
		body(w, "accepted")
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
		done := make(chan struct{})
		go func() {
			w.WriteHeader(http.StatusAccepted)
			close(done)
		}()
		<-done
		body(w, "other")
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("handler panic")
	})
	mux.HandleFunc("/invalid", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(42)
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "cannot hijack", http.StatusNotImplemented)
			return
		}
		c, buf, err := hj.Hijack()
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhijack\n")
		buf.Flush()
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		body(w, "bye")
		quitOnce.Do(func() { close(quit) })
	})
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address (loopback)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:   routes(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{testcert.SelfSigned()}},
		// the panicking handlers log their stack: keep stderr for real errors
		ErrorLog: log.New(io.Discard, "", 0),
	}
	// os.Stdout is unbuffered: the line is out when Printf returns.
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() {
		// ServeTLS sets up HTTP/2 (ALPN "h2", then "http/1.1")
		if err := srv.ServeTLS(ln, "", ""); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	<-quit
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}
