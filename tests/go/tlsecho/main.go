// SPDX-License-Identifier: BSD-2-Clause

// tlsecho is an HTTPS server and its clients on loopback, for testing what
// luprobe.tls sees of crypto/tls plaintext. The server speaks HTTP/2 and
// HTTP/1.1 (ALPN); its certificate is self-signed and made at startup.
//
//	tlsecho serve [-addr 127.0.0.1:0]   serve; prints "listening on ADDR"
//	tlsecho client -addr ADDR            HTTP/1.1: GET /hello, POST /echo "ping from go",
//	                                     one connection; prints each answer, then "client done"
//	tlsecho load -addr ADDR [-c 8] [-d 5s]
//	                                     GET /hello as fast as the server answers, keep-alive,
//	                                     HTTP/1.1; prints "requests N errors N rate R"
//	tlsecho unix -sock PATH              serve on a unix socket and GET /hello through it
//	                                     (HTTP/1.1), in one process; prints the answer, "unix done"
//
// Routes: GET /hello answers "hello\n"; POST /echo answers "echo: " and the
// request body; /quit answers "bye\n" and exits.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"luprobe.test/internal/testcert"
)

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Write(append([]byte("echo: "), body...))
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "bye\n")
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		go func() {
			time.Sleep(100 * time.Millisecond)
			os.Exit(0)
		}()
	})
	return mux
}

func server() *http.Server {
	return &http.Server{
		Handler:   routes(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{testcert.SelfSigned()}},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
}

func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := server()
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Fatal(srv.ServeTLS(ln, "", ""))
}

// unix serves on a unix socket and asks it for /hello: TLS over a connection
// that is not TCP.
func unix(sock string) {
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		log.Fatal(err)
	}
	srv := server()
	go srv.ServeTLS(ln, "", "")
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		TLSNextProto:    map[string]func(string, *tls.Conn) http.RoundTripper{},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	req, _ := http.NewRequest("GET", "https://localhost/hello", nil)
	req.Header.Set("User-Agent", "tlsecho")
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d %q\n", resp.StatusCode, got)
	// The client can read the answer before the server's (*tls.Conn).Write
	// has returned: wait for the server's connection to go idle, so the
	// process does not end in the middle of a traced call.
	tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("unix done")
}

// client1 is an HTTP/1.1 client that keeps one connection.
func client1(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
	}, Timeout: 10 * time.Second}
}

func client(addr string) {
	c := client1(1)
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/hello", ""},
		{"POST", "/echo", "ping from go"},
	} {
		var body io.Reader
		if req.body != "" {
			body = bytes.NewBufferString(req.body)
		}
		r, err := http.NewRequest(req.method, "https://"+addr+req.path, body)
		if err != nil {
			log.Fatal(err)
		}
		r.Header.Set("User-Agent", "tlsecho")
		resp, err := c.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %q\n", resp.StatusCode, got)
	}
	fmt.Println("client done")
}

func load(addr string, conns int, d time.Duration) {
	c := client1(conns)
	var n, errs int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				resp, err := c.Get("https://" + addr + "/hello")
				if err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				atomic.AddInt64(&n, 1)
			}
		}()
	}
	wg.Wait()
	rate := float64(n) / time.Since(start).Seconds()
	fmt.Printf("requests %d errors %d rate %.0f\n", n, errs, rate)
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: tlsecho serve|client|load [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address")
	conns := fs.Int("c", 8, "load: connections")
	d := fs.Duration("d", 5*time.Second, "load: duration")
	sock := fs.String("sock", "", "unix: socket path")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "serve":
		serve(*addr)
	case "client":
		client(*addr)
	case "load":
		load(*addr, *conns, *d)
	case "unix":
		unix(*sock)
	default:
		log.Fatal("usage: tlsecho serve|client|load [flags]")
	}
}
