// SPDX-License-Identifier: BSD-2-Clause

// aggs calls small functions with known values, for the tests of
// aggregations: values on both CPUs, integers at the edges of int64 and
// uint64, many distinct keys, calls spread over a known time window, and
// strings that a capture cap cuts inside a multi-byte character.
//
//	aggs -mode cpus            obs(kind, v) from a thread on CPU 0, then one on CPU 1
//	aggs -mode values          big(u, s) and boxed(v) at the edges of uint64 and int64
//	aggs -mode keys -n N -r R  keyed(k) for k in 0..N-1, R rounds
//	aggs -mode ticks -n N -ms M  tick(i) every M ms, N calls
//	aggs -mode strings         label(s) with multi-byte and invalid UTF-8
//
// Each mode prints "done" when its calls are made; -wait keeps the process
// alive after that until it is killed.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

var sink int64

//go:noinline
func obs(kind int, v int64) int64 { sink += v; return v }

//go:noinline
func big(u uint64, s int64) uint64 { sink++; return u }

//go:noinline
func boxed(v any) int { sink++; return 1 }

//go:noinline
func keyed(k int) int { sink++; return k }

//go:noinline
func tick(i int) int { sink++; return i }

//go:noinline
func label(s string) int { sink++; return len(s) }

// onCPU runs fn on an OS thread pinned to cpu and says where it ran.
func onCPU(cpu int, fn func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var mask [16]uint64
		mask[cpu/64] = 1 << (cpu % 64)
		_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0,
			unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
		if e != 0 {
			fmt.Fprintf(os.Stderr, "sched_setaffinity(%d): %v\n", cpu, e)
			os.Exit(2)
		}
		fn()
		var got uint32
		syscall.RawSyscall(309 /* getcpu */, uintptr(unsafe.Pointer(&got)), 0, 0)
		fmt.Printf("ran on cpu %d\n", got)
		close(done)
	}()
	<-done
}

func main() {
	mode := flag.String("mode", "", "cpus, values, keys, ticks or strings")
	n := flag.Int("n", 10, "keys or calls")
	rounds := flag.Int("r", 1, "rounds of keys")
	ms := flag.Int("ms", 100, "ms between ticks")
	wait := flag.Bool("wait", false, "stay alive once done")
	flag.Parse()

	switch *mode {
	case "cpus":
		// CPU 0 makes the keys; CPU 1's slots of them start at zero
		onCPU(0, func() {
			for _, v := range []int64{40, 7, 300} {
				obs(1, v)
				obs(2, -v)
			}
		})
		onCPU(1, func() {
			for _, v := range []int64{5, 900} {
				obs(1, v)
				obs(2, -v)
			}
		})
	case "values":
		us := []uint64{0, 1, 1<<63 - 1, 1 << 63, 18000000000000000000, 1<<64 - 1}
		ss := []int64{-1 << 63, -1, 0, 5, 1<<63 - 1, 0}
		for i := range us {
			big(us[i], ss[i])
		}
		boxed(uint64(18000000000000000000))
		boxed(int64(-5))
	case "keys":
		for r := 0; r < *rounds; r++ {
			for k := 0; k < *n; k++ {
				keyed(k)
			}
		}
	case "ticks":
		for i := 0; i < *n; i++ {
			tick(i)
			time.Sleep(time.Duration(*ms) * time.Millisecond)
		}
	case "strings":
		label("aé€€")          // cut at 5 bytes: "aé" and two bytes of "€"
		label("\xffok")        // an invalid byte
		label("\xed\xa0\x80x") // an encoded surrogate: not UTF-8
		label("\xc0\xafx")     // an overlong "/": not UTF-8
	default:
		fmt.Fprintln(os.Stderr, "aggs: -mode cpus, values, keys, ticks or strings")
		os.Exit(2)
	}
	fmt.Println("done")
	for *wait {
		time.Sleep(time.Hour)
	}
}
