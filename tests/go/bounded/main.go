// SPDX-License-Identifier: BSD-2-Clause

// bounded calls Read methods that fill their argument during the call, for
// testing captures of an argument's memory at return bounded by a result
// (b[:n]). Every case is one call, in this order, on one goroutine:
//
//  1. 32-byte buffer, "hello, world" written, n = 12
//  2. len 8, cap 16, "0123456789" written into the capacity, n = 10 (> len, <= cap)
//  3. len 8, cap 16, n = 17 (> cap)
//  4. n = -1
//  5. n = 1<<40
//  6. nil slice, n = 0
//  7. nil slice, n = 3
//  8. 200-byte buffer, 100 bytes "x" written, n = 100
//  9. a slice at an unmapped address, n = 4 (nothing written)
//  10. 16-byte buffer, n = 0
//
// The same ten cases then go through passAsm, an assembly function on the
// stack ABI (ABI0): the caller writes the data, passAsm returns n.
//
// Then, with -file PATH, os.(*File).Read of that file into a 64-byte buffer,
// until EOF. It prints "done" and exits.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"
)

type step struct {
	data string
	n    int
}

type source struct {
	steps []step
	next  int
}

//go:noinline
func (s *source) Read(b []byte) (n int, err error) {
	st := s.steps[s.next]
	s.next++
	copy(b[:cap(b)], st.data)
	if st.n < 0 {
		return st.n, errors.New("negative count")
	}
	return st.n, nil
}

// passAsm returns n and a nil error (asm_amd64.s).
func passAsm(b []byte, n int) (int, error)

// readInto calls Read through the interface: an itab, whose method types
// stripped builds keep.
//
//go:noinline
func readInto(r io.Reader, b []byte) {
	r.Read(b)
}

func main() {
	file := flag.String("file", "", "a file to read with os.(*File).Read")
	flag.Parse()
	src := &source{steps: []step{
		{"hello, world", 12},
		{"0123456789", 10},
		{"", 17},
		{"", -1},
		{"", 1 << 40},
		{"", 0},
		{"", 3},
		{strings.Repeat("x", 100), 100},
		{"", 4},
		{"", 0},
	}}
	bad := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(0x1000))), 16)
	bufs := [][]byte{
		make([]byte, 32),
		make([]byte, 8, 16),
		make([]byte, 8, 16),
		make([]byte, 8),
		make([]byte, 8),
		nil,
		nil,
		make([]byte, 200),
		nil, // bad, below
		make([]byte, 16),
	}
	bufs[8] = bad
	for _, b := range bufs {
		if len(b) > 0 && &b[0] == &bad[0] {
			src.steps[src.next].data = "" // never written: the memory is not there
		}
		readInto(src, b)
	}
	for i, b := range bufs {
		st := src.steps[i]
		if i != 8 {
			copy(b[:cap(b)], st.data)
		}
		passAsm(b, st.n)
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		buf := make([]byte, 64)
		for {
			if _, err := f.Read(buf); err != nil {
				break
			}
		}
		f.Close()
	}
	fmt.Println("done")
}
