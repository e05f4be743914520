package sqldb

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// waitQueued waits until the turnstile has the given waiters queued.
func waitQueued(t *testing.T, ts *turnstile, urgent, normal int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, n := ts.waiting()
		if u == urgent && n == normal {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiters: %d urgent, %d normal; want %d, %d", u, n, urgent, normal)
		}
		runtime.Gosched()
	}
}

func TestTurnstileHandsTheTurnToUrgentWaitersFirstThenInOrder(t *testing.T) {
	ts := &turnstile{}
	ctx := context.Background()
	if err := ts.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	enqueue := func(name string, urgent bool, u, n int) {
		go func() {
			if err := ts.acquire(ctx, urgent); err != nil {
				got <- "error " + err.Error()
				return
			}
			got <- name
		}()
		waitQueued(t, ts, u, n)
	}
	enqueue("normal 1", false, 0, 1)
	enqueue("normal 2", false, 0, 2)
	enqueue("urgent 1", true, 1, 2)
	enqueue("urgent 2", true, 2, 2)
	var order []string
	for range 4 {
		ts.release()
		order = append(order, <-got)
	}
	want := []string{"urgent 1", "urgent 2", "normal 1", "normal 2"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("the turn went to %v; want %v", order, want)
		}
	}
	ts.release()
	if ts.held {
		t.Fatal("the turn is still held after the last writer released it")
	}
}

func TestTurnstileWaiterThatGivesUpHoldsNothing(t *testing.T) {
	ts := &turnstile{}
	if err := ts.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ts.acquire(ctx, true) }()
	waitQueued(t, ts, 1, 0)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire after its context ended: %v; want context.Canceled", err)
	}
	waitQueued(t, ts, 0, 0)
	ts.release()
	// Free again: a new writer gets the turn at once.
	short, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := ts.acquire(short, false); err != nil {
		t.Fatalf("the turn was not free after the only waiter gave up: %v", err)
	}
}

// A waiter whose context ends just as the turn is handed to it passes
// the turn on rather than keep it: the next waiter still gets it.
func TestTurnstileHandOverRacingACancelPassesTheTurnOn(t *testing.T) {
	for range 200 {
		ts := &turnstile{}
		if err := ts.acquire(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() { first <- ts.acquire(ctx, false) }()
		waitQueued(t, ts, 0, 1)
		second := make(chan error, 1)
		go func() { second <- ts.acquire(context.Background(), false) }()
		waitQueued(t, ts, 0, 2)
		go cancel()
		ts.release()
		if err := <-first; err == nil {
			ts.release()
		}
		if err := <-second; err != nil {
			t.Fatalf("the second waiter did not get the turn: %v", err)
		}
		ts.release()
		if ts.held {
			t.Fatal("the turn is held by no one")
		}
	}
}
