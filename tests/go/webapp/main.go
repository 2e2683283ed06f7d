// SPDX-License-Identifier: BSD-2-Clause

// webapp is a small but typical Go web service for testing luprobe's
// scripting features: net/http handlers that query a database through
// database/sql, plus a key-value store whose functions fail on known inputs.
// The database is the in-repo fakedb driver, as the tests have no real one.
//
//	webapp [-addr 127.0.0.1:8080]  serve HTTP; prints "listening on ADDR"
//	webapp -workload N             run N rounds of a fixed sequence, no HTTP
//
// Routes (every body ends in a newline; other paths get 404):
//
//	GET  /users/ID                  200 name, 400, 404 no such user, 500 error
//	POST /orders?user=ID&item=NAME  201 created, 400, 404 no such user, 500 error
//	GET  /orders/count              200 number of orders
//	GET  /slow?ms=N                 200 "slept N in NS ns" (NS: slow's own measure)
//	GET  /dbsleep?ms=N              200 "db slept N" (SELECT pg_sleep in the driver)
//	GET  /fail?kind=K               500 error text (K = bad, missing) or 200 "ok"
//	GET  /healthz                   200 "ok", without the database
//	GET  /quit                      200 "bye", then exit 0
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "luprobe.test/webapp/fakedb"
	"luprobe.test/webapp/store"
)

var db *sql.DB

//go:noinline
func lookupUser(ctx context.Context, id int64) (string, error) {
	var name string
	err := db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", id).Scan(&name)
	return name, err
}

// createOrder checks that the user exists first (fakedb has no foreign
// keys); an unknown user gives sql.ErrNoRows.
//
//go:noinline
func createOrder(ctx context.Context, user int64, item string) error {
	var one int64
	if err := db.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ?", user).Scan(&one); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, "INSERT INTO orders (user_id, item) VALUES (?, ?)", user, item)
	return err
}

//go:noinline
func countOrders(ctx context.Context) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&n)
	return n, err
}

// dbSleep spends ms milliseconds inside the driver, for latency tests of
// database/sql functions.
//
//go:noinline
func dbSleep(ctx context.Context, ms int64) error {
	_, err := db.ExecContext(ctx, "SELECT pg_sleep(?)", ms)
	return err
}

// slow sleeps ms milliseconds and returns how long that took, measured
// inside the call, so tests know the latency a probe on it must see (at
// least this, under load more than ms).
//
//go:noinline
func slow(ms int) time.Duration {
	t := time.Now()
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return time.Since(t)
}

// process fails for kind "bad" with an error of its own and for "missing"
// with a wrapped store error.
//
//go:noinline
func process(kind string) error {
	switch kind {
	case "bad":
		return errors.New("process: bad input")
	case "missing":
		if _, err := store.Get("missing"); err != nil {
			return fmt.Errorf("process: %w", err)
		}
	}
	return nil
}

// reply writes a plain-text answer, always calling WriteHeader itself so the
// status a handler chose is explicit.
func reply(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, body+"\n")
}

// only answers 405 unless r uses method.
func only(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	reply(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

// dbReply answers with body, or with 404 for sql.ErrNoRows and 500 for any
// other error.
func dbReply(w http.ResponseWriter, err error, code int, body string) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		reply(w, http.StatusNotFound, "no such user")
	case err != nil:
		reply(w, http.StatusInternalServerError, err.Error())
	default:
		reply(w, code, body)
	}
}

// GET /users/ID
//
//go:noinline
func handleUser(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/users/"), 10, 64)
	if err != nil {
		reply(w, http.StatusBadRequest, "bad user id")
		return
	}
	name, err := lookupUser(r.Context(), id)
	dbReply(w, err, http.StatusOK, name)
}

// POST /orders?user=ID&item=NAME
//
//go:noinline
func handleOrders(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodPost) {
		return
	}
	q := r.URL.Query()
	user, err := strconv.ParseInt(q.Get("user"), 10, 64)
	item := q.Get("item")
	if err != nil || item == "" {
		reply(w, http.StatusBadRequest, "want user=ID&item=NAME")
		return
	}
	err = createOrder(r.Context(), user, item)
	dbReply(w, err, http.StatusCreated, "created")
}

// GET /orders/count
//
//go:noinline
func handleCount(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	n, err := countOrders(r.Context())
	dbReply(w, err, http.StatusOK, strconv.FormatInt(n, 10))
}

// msParam parses the ms query parameter, answering 400 if it is not a
// non-negative integer.
func msParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		reply(w, http.StatusBadRequest, "want ms=N")
		return 0, false
	}
	return ms, true
}

// GET /slow?ms=N
//
//go:noinline
func handleSlow(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	if ms, ok := msParam(w, r); ok {
		took := slow(ms)
		reply(w, http.StatusOK, fmt.Sprintf("slept %d in %d ns", ms, took.Nanoseconds()))
	}
}

// GET /dbsleep?ms=N
//
//go:noinline
func handleDBSleep(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	if ms, ok := msParam(w, r); ok {
		err := dbSleep(r.Context(), int64(ms))
		dbReply(w, err, http.StatusOK, fmt.Sprintf("db slept %d", ms))
	}
}

// GET /fail?kind=K
//
//go:noinline
func handleFail(w http.ResponseWriter, r *http.Request) {
	if !only(w, r, http.MethodGet) {
		return
	}
	if err := process(r.URL.Query().Get("kind")); err != nil {
		reply(w, http.StatusInternalServerError, err.Error())
		return
	}
	reply(w, http.StatusOK, "ok")
}

// GET /healthz
//
//go:noinline
func handleHealthz(w http.ResponseWriter, r *http.Request) {
	if only(w, r, http.MethodGet) {
		reply(w, http.StatusOK, "ok")
	}
}

var (
	quit     = make(chan struct{})
	quitOnce sync.Once
)

// GET /quit: main shuts the server down once this answer is out.
//
//go:noinline
func handleQuit(w http.ResponseWriter, r *http.Request) {
	if only(w, r, http.MethodGet) {
		reply(w, http.StatusOK, "bye")
		quitOnce.Do(func() { close(quit) })
	}
}

func serve(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/users/", handleUser)
	mux.HandleFunc("/orders", handleOrders)
	mux.HandleFunc("/orders/count", handleCount)
	mux.HandleFunc("/slow", handleSlow)
	mux.HandleFunc("/dbsleep", handleDBSleep)
	mux.HandleFunc("/fail", handleFail)
	mux.HandleFunc("/healthz", handleHealthz)
	mux.HandleFunc("/quit", handleQuit)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	// os.Stdout is unbuffered: the line is out when Printf returns.
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go func() {
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	<-quit
	// Shutdown lets the /quit handler finish writing "bye" before we exit;
	// the timeout bounds the wait for other requests (e.g. a long /slow).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// workload runs n rounds without HTTP. Each round makes exactly these calls
// (tests count on them, keep this in sync):
//
//	main.lookupUser   4  ids 1, 2, 13, 99  2 errors: 13 is locked, 99 has no row
//	main.createOrder  2  users 1, 2        0 errors
//	main.countOrders  1                    0 errors
//	store.Put         1  "k1"              0 errors
//	store.Get         2  "k1", "nope"      1 error  ("nope")
//	store.Delete      2  "k1", "k1"        1 error  (the second)
//	main.process      2  "ok", "bad"       1 error  ("bad"; it calls nothing)
//
// and so these statements, all through database/sql.(*DB).QueryContext
// except the INSERT, which goes through (*DB).ExecContext:
//
//	SELECT name FROM users WHERE id = ?               4  (lookupUser)
//	SELECT 1 FROM users WHERE id = ?                  2  (createOrder)
//	INSERT INTO orders (user_id, item) VALUES (?, ?)  2  (createOrder)
//	SELECT count(*) FROM orders                       1  (countOrders)
//
// That is per round: (*DB).QueryContext 7 (1 error, id 13: the driver fails
// the query), (*Row).Scan 7 (2 errors: id 13, and sql.ErrNoRows for 99),
// (*DB).ExecContext 2 (0 errors). (*DB).QueryRowContext is inlined into its
// callers here, so it is not a function a probe can find.
func workload(n int) {
	ctx := context.Background()
	for round := 1; round <= n; round++ {
		var users []string
		for _, id := range []int64{1, 2, 13, 99} {
			name, err := lookupUser(ctx, id)
			if err != nil {
				name = "-"
			}
			users = append(users, name)
		}
		for _, err := range []error{
			createOrder(ctx, 1, "book"),
			createOrder(ctx, 2, "pen"),
		} {
			if err != nil {
				log.Fatal(err)
			}
		}
		orders, err := countOrders(ctx)
		if err != nil {
			log.Fatal(err)
		}

		storeErrors := 0
		for _, err := range []error{
			store.Put("k1", "v1"),
			second(store.Get("k1")),
			second(store.Get("nope")), // error
			store.Delete("k1"),
			store.Delete("k1"), // error
		} {
			if err != nil {
				storeErrors++
			}
		}

		processErrors := 0
		for _, kind := range []string{"ok", "bad"} {
			if process(kind) != nil {
				processErrors++
			}
		}
		fmt.Printf("round %d: users %s, orders %d, store errors %d, process errors %d\n",
			round, strings.Join(users, " "), orders, storeErrors, processErrors)
	}
	fmt.Printf("total: %d rounds\n", n)
}

// second returns the error of a (value, error) pair.
func second(_ string, err error) error { return err }

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback)")
	rounds := flag.Int("workload", 0, "run `N` rounds of a fixed sequence without HTTP, then exit")
	flag.Parse()

	var err error
	if db, err = sql.Open("fakedb", "webapp"); err != nil {
		log.Fatal(err)
	}
	// Close stops database/sql's connection-opener goroutine.
	defer db.Close()
	if *rounds > 0 {
		workload(*rounds)
		return
	}
	serve(*addr)
}
