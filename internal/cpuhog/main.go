// Command cpuhog keeps every core of the machine busy for a bounded time,
// so that the test suite can be run as it runs on a shared CI runner or a
// laptop in the middle of a build (make test-stress).
//
// It spins one goroutine per CPU with a mix of arithmetic and short-lived
// allocations (so the garbage collector and the memory bus are busy too,
// as they are under a parallel compile), and it stops by itself: after
// -for, when the process named by -parent is gone, or on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func main() {
	dur := flag.Duration("for", 30*time.Minute, "stop after this long")
	workers := flag.Int("workers", runtime.NumCPU(), "busy goroutines (default: one per CPU)")
	parent := flag.Int("parent", 0, "stop when the process with this pid exits (0: do not watch)")
	flag.Parse()
	if *dur <= 0 || *workers <= 0 {
		fmt.Fprintln(os.Stderr, "cpuhog: -for and -workers must be positive")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()

	for range *workers {
		go spin(ctx)
	}
	if *parent > 0 {
		go watch(ctx, cancel, *parent)
	}
	fmt.Fprintf(os.Stderr, "cpuhog: %d busy workers for at most %s\n", *workers, *dur)
	<-ctx.Done()
}

// spin burns CPU until ctx ends, checking it every few milliseconds of work.
func spin(ctx context.Context) {
	var sink []byte
	x := uint64(88172645463325252)
	for ctx.Err() == nil {
		for range 200_000 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		sink = make([]byte, 1<<10+int(x%4096))
		sink[0] = byte(x)
	}
	_ = sink
}

// watch ends the hog once the parent process has gone, so a killed
// test run never leaves it spinning.
func watch(ctx context.Context, cancel context.CancelFunc, pid int) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
				cancel()
				return
			}
		}
	}
}
