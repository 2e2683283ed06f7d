// SPDX-License-Identifier: BSD-2-Clause

// Package fakedb is a tiny in-memory database/sql driver, registered as
// "fakedb". The tests have no real database and no third-party driver, yet
// webapp must go through database/sql exactly as a real service would, so
// that database/sql's own functions can be traced. The driver understands
// only the statements webapp issues, matched as text after collapsing
// whitespace, with "?" placeholders bound positionally:
//
//	SELECT name FROM users WHERE id = ?               (query) the user's name
//	SELECT 1 FROM users WHERE id = ?                  (query) does the user exist
//	SELECT count(*) FROM orders                       (query) number of orders
//	INSERT INTO orders (user_id, item) VALUES (?, ?)  (exec)  order ids count from 1
//	SELECT pg_sleep(?)                                (query or exec) sleep N ms
//
// Users 1..5 are alice, bob, carol, dave and erin. Any statement reading user
// 13 fails with "fakedb: row 13 is locked", a driver error that is not
// sql.ErrNoRows. Anything else fails with "fakedb: unsupported query: ...".
package fakedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	sql.Register("fakedb", &Driver{dbs: map[string]*state{}})
}

// Driver keeps one in-memory database per data source name, so that all
// connections of a sql.DB's pool see the same data.
type Driver struct {
	mu  sync.Mutex
	dbs map[string]*state
}

// Open returns a connection to the database called name, creating it.
func (d *Driver) Open(name string) (driver.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.dbs[name]
	if st == nil {
		st = &state{users: map[int64]string{
			1: "alice", 2: "bob", 3: "carol", 4: "dave", 5: "erin",
		}}
		d.dbs[name] = st
	}
	return &conn{st: st}, nil
}

// state is one database. Connections are used concurrently, hence the mutex.
type state struct {
	mu     sync.Mutex
	users  map[int64]string
	orders int64 // only their number is ever read back; it is also the last id
}

// lockedUser is the row every read fails on.
const lockedUser = 13

func (st *state) user(id int64) (name string, ok bool, err error) {
	if id == lockedUser {
		return "", false, fmt.Errorf("fakedb: row %d is locked", id)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	name, ok = st.users[id]
	return name, ok, nil
}

// conn implements QueryerContext and ExecerContext, so database/sql runs
// statements directly instead of preparing them first.
type conn struct{ st *state }

var (
	_ driver.QueryerContext = (*conn)(nil)
	_ driver.ExecerContext  = (*conn)(nil)
)

func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c, query}, nil }
func (c *conn) Close() error                              { return nil }

// Begin returns a transaction that does nothing: statements always apply at
// once, which is all webapp needs.
func (c *conn) Begin() (driver.Tx, error) { return tx{}, nil }

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, vals, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	switch q {
	case "SELECT name FROM users WHERE id = ?", "SELECT 1 FROM users WHERE id = ?":
		id, err := toInt(vals[0])
		if err != nil {
			return nil, err
		}
		name, ok, err := c.st.user(id)
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return &rows{cols: []string{"name"}}, nil // sql.ErrNoRows for Row.Scan
		case q == "SELECT 1 FROM users WHERE id = ?":
			return &rows{[]string{"1"}, [][]driver.Value{{int64(1)}}}, nil
		}
		return &rows{[]string{"name"}, [][]driver.Value{{name}}}, nil
	case "SELECT count(*) FROM orders":
		c.st.mu.Lock()
		defer c.st.mu.Unlock()
		return &rows{[]string{"count"}, [][]driver.Value{{c.st.orders}}}, nil
	case "SELECT pg_sleep(?)":
		if err := sleep(ctx, vals[0]); err != nil {
			return nil, err
		}
		return &rows{[]string{"pg_sleep"}, [][]driver.Value{{nil}}}, nil
	}
	return nil, fmt.Errorf("fakedb: unsupported query: %s", query)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, vals, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	switch q {
	case "INSERT INTO orders (user_id, item) VALUES (?, ?)":
		if _, err := toInt(vals[0]); err != nil {
			return nil, err
		}
		if _, ok := vals[1].(string); !ok {
			return nil, fmt.Errorf("fakedb: item: want a string, got %T", vals[1])
		}
		c.st.mu.Lock()
		defer c.st.mu.Unlock()
		c.st.orders++
		return result{id: c.st.orders, n: 1}, nil
	case "SELECT pg_sleep(?)":
		return result{}, sleep(ctx, vals[0])
	}
	return nil, fmt.Errorf("fakedb: unsupported query: %s", query)
}

// bind collapses the whitespace of query and checks that it gets one
// argument per "?".
func bind(query string, args []driver.NamedValue) (string, []driver.Value, error) {
	q := strings.Join(strings.Fields(query), " ")
	if want := strings.Count(q, "?"); len(args) != want {
		return "", nil, fmt.Errorf("fakedb: %q wants %d arguments, got %d", q, want, len(args))
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return "", nil, fmt.Errorf("fakedb: named argument %s is not supported", a.Name)
		}
		vals[i] = a.Value
	}
	return q, vals, nil
}

// toInt accepts an int64 or a decimal string, as a loosely typed SQL
// database would.
func toInt(v driver.Value) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case string:
		return strconv.ParseInt(v, 10, 64)
	}
	return 0, fmt.Errorf("fakedb: want an integer, got %T", v)
}

// sleep is the latency hook: it waits ms milliseconds, or until ctx ends.
func sleep(ctx context.Context, ms driver.Value) error {
	n, err := toInt(ms)
	if err != nil {
		return err
	}
	t := time.NewTimer(time.Duration(n) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rows is a fully materialised result set.
type rows struct {
	cols []string
	vals [][]driver.Value
}

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { return nil }

func (r *rows) Next(dest []driver.Value) error {
	if len(r.vals) == 0 {
		return io.EOF
	}
	copy(dest, r.vals[0])
	r.vals = r.vals[1:]
	return nil
}

type result struct{ id, n int64 }

func (r result) LastInsertId() (int64, error) { return r.id, nil }
func (r result) RowsAffected() (int64, error) { return r.n, nil }

type tx struct{}

func (tx) Commit() error   { return nil }
func (tx) Rollback() error { return nil }

// stmt serves db.Prepare by running its text on its connection each time.
type stmt struct {
	c     *conn
	query string
}

var (
	_ driver.StmtQueryContext = (*stmt)(nil)
	_ driver.StmtExecContext  = (*stmt)(nil)
)

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return strings.Count(s.query, "?") }

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}
