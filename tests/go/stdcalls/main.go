// SPDX-License-Identifier: BSD-2-Clause

// stdcalls calls standard-library functions and methods with known values,
// so that tests can check what luprobe reads on a stripped build (no DWARF,
// no symbol table) against what the program prints.
//
//	stdcalls [-n N]   run the sequence N times (default 1)
//
// Calls go through function values so that the compiler cannot inline the
// standard-library functions into main: each is a real call a probe sees.
// Every call prints one line: the function, what it passed, what it got.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var (
	parseInt    = strconv.ParseInt
	parseFloat  = strconv.ParseFloat
	atoi        = strconv.Atoi
	quote       = strconv.Quote
	repeat      = strings.Repeat
	fields      = strings.Fields
	equalFold   = strings.EqualFold
	urlParse    = url.Parse
	bufWrite    = (*bytes.Buffer).WriteString
	durationStr = time.Duration.String
)

func run() {
	i, err := parseInt("-12345", 10, 64)
	fmt.Printf("strconv.ParseInt s=%q base=%d bitSize=%d -> %d %v\n", "-12345", 10, 64, i, err)
	f, err := parseFloat("2.5", 64)
	fmt.Printf("strconv.ParseFloat s=%q bitSize=%d -> %g %v\n", "2.5", 64, f, err)
	n, err := atoi("12x")
	fmt.Printf("strconv.Atoi s=%q -> %d %v\n", "12x", n, err)
	q := quote("tab\there")
	fmt.Printf("strconv.Quote s=%q -> %s\n", "tab\there", q)
	r := repeat("ab", 3)
	fmt.Printf("strings.Repeat s=%q count=%d -> %q\n", "ab", 3, r)
	fs := fields(" alpha  beta gamma ")
	fmt.Printf("strings.Fields s=%q -> %q\n", " alpha  beta gamma ", fs)
	eq := equalFold("Gopher", "GOPHER")
	fmt.Printf("strings.EqualFold s=%q t=%q -> %v\n", "Gopher", "GOPHER", eq)
	u, err := urlParse("http://example.test:8080/a/b?x=1")
	fmt.Printf("net/url.Parse rawURL=%q -> host=%s path=%s %v\n",
		"http://example.test:8080/a/b?x=1", u.Host, u.Path, err)
	var b bytes.Buffer
	// written before the first call: a fresh heap page that nothing touched
	// yet is not mapped, and luprobe would rightly show the pointee as unreadable
	b.Reset()
	b.WriteString("head-")
	k, err := bufWrite(&b, "payload")
	fmt.Printf("bytes.(*Buffer).WriteString s=%q -> %d %v len=%d\n", "payload", k, err, b.Len())
	// as real programs do, the values pass through interfaces: the binary
	// keeps their runtime type descriptors
	fmt.Printf("types %T %T\n", u, &b)
	d := durationStr(1500 * time.Millisecond)
	fmt.Printf("time.Duration.String d=%d -> %s\n", int64(1500*time.Millisecond), d)
}

func main() {
	n := flag.Int("n", 1, "times to run the sequence")
	flag.Parse()
	for k := 0; k < *n; k++ {
		run()
	}
}
