// chatty writes many lines to its stdout while it calls a function that a
// test traces: the program's lines and luprobe's share one pipe, and neither
// may break the other's.
//
// Each line is exactly 100 bytes: "line NNNNNN " then filler, then a newline.
// Every -every lines it calls main.tick(i) once, -calls times in all.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

//go:noinline
func tick(i int, label string) int {
	return i * 2
}

func main() {
	lines := flag.Int("lines", 20000, "lines to print")
	calls := flag.Int("calls", 5000, "calls of main.tick")
	flush := flag.Int("flush", 7, "flush the program's buffer every N lines")
	pause := flag.Int("pause", 0, "sleep a millisecond every N lines (0: never)")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 4096)
	every := *lines / *calls
	if every < 1 {
		every = 1
	}
	filler := strings.Repeat("x", 100)
	called, sum := 0, 0
	for i := 0; i < *lines; i++ {
		head := fmt.Sprintf("line %06d ", i)
		fmt.Fprintf(w, "%s%s\n", head, filler[:99-len(head)])
		if (i+1)%*flush == 0 {
			w.Flush()
		}
		if *pause > 0 && (i+1)%*pause == 0 {
			time.Sleep(time.Millisecond)
		}
		if i%every == 0 && called < *calls {
			sum += tick(called, "t")
			called++
		}
	}
	for ; called < *calls; called++ {
		sum += tick(called, "t")
	}
	w.Flush()
	fmt.Fprintf(os.Stderr, "calls %d sum %d\n", called, sum)
}
