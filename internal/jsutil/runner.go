package jsutil

import (
	"fmt"
	"sync"
)

// Synchronous answers to JavaScript.
//
// A js.FuncOf callback may block on a channel while other goroutines run;
// it must not block on anything that needs the JavaScript event loop (a
// Promise, an IndexedDB event, a timer): the event loop is stopped while
// the callback runs, so the Go program dies with "all goroutines are
// asleep". [Promise] avoids that by never blocking. A [Runner] instead
// blocks on a call's work when it can, so the common call (a statement on
// an open database in memory or on OPFS) answers synchronously, with no
// Promise, goroutine or js.FuncOf of its own, and moves to the
// asynchronous path the moment the work has to wait on JavaScript.
//
// The rule that makes it safe: every wait on JavaScript or on a timer is
// announced with [Blocking]. Await, the IndexedDB helpers and the VFS's
// retry loop do so; so does any wait on a Go channel whose sender is
// driven by a later JavaScript call (the transaction gate).

var (
	blockMu sync.Mutex
	parked  int           // goroutines waiting on JavaScript or a timer
	loose   int           // calls running on goroutines of their own
	waiter  chan struct{} // closed to release the Runner call in progress
)

// Blocking announces that the calling goroutine is about to wait on
// JavaScript (a Promise, an event, a timer) or on something only a later
// JavaScript call can release. A synchronous [Runner.Call] in progress
// stops waiting for its work and answers "pending"; later calls go
// asynchronous until the returned func is called (when the wait is over).
func Blocking() (done func()) {
	blockMu.Lock()
	parked++
	if waiter != nil {
		close(waiter)
		waiter = nil
	}
	blockMu.Unlock()
	return unblock
}

func unblock() {
	blockMu.Lock()
	parked--
	blockMu.Unlock()
}

// Runner runs the work of calls from JavaScript on one long-lived
// goroutine (its stack stays grown: SQLite's call chains are deep).
type Runner struct {
	jobs chan *job
	busy bool // a job is running (or waiting on JavaScript); under blockMu
}

type job struct {
	work   func() (any, error)
	settle func(any, error)
	v      any
	err    error
	done   chan struct{}
	left   bool // the caller answered "pending": settle delivers the result
	over   bool // work returned
}

// NewRunner starts a Runner's goroutine.
func NewRunner() *Runner {
	r := &Runner{jobs: make(chan *job)}
	go r.loop()
	return r
}

// Call runs work. When work finishes without waiting on JavaScript, Call
// returns its result with sync set. Otherwise (work announced a wait with
// [Blocking], or another goroutine is waiting on JavaScript, or the Runner
// is busy with an earlier call that went asynchronous) Call returns at
// once with sync unset, and settle is called with the result later, on
// another goroutine. A panic in work becomes an error.
func (r *Runner) Call(work func() (any, error), settle func(any, error)) (v any, err error, sync bool) {
	blockMu.Lock()
	if r.busy || parked > 0 || waiter != nil {
		loose++
		blockMu.Unlock()
		go func() {
			settle(protect(work))
			blockMu.Lock()
			loose--
			blockMu.Unlock()
		}()
		return nil, nil, false
	}
	r.busy = true
	w := make(chan struct{})
	waiter = w
	j := &job{work: work, settle: settle, done: make(chan struct{})}
	blockMu.Unlock()
	r.jobs <- j
	select {
	case <-j.done:
	case <-w:
	}
	blockMu.Lock()
	defer blockMu.Unlock()
	if waiter == w {
		waiter = nil
	}
	if j.over {
		return j.v, j.err, true
	}
	j.left = true
	return nil, nil, false
}

// Quiet reports whether no call is running or waiting anywhere but in a
// synchronous Call: no goroutine waits on JavaScript, the runner is idle
// and no call runs on a goroutine of its own. When it is not, a call
// may have made other goroutines runnable (released a lock or the gate
// they wait for).
func (r *Runner) Quiet() bool {
	blockMu.Lock()
	defer blockMu.Unlock()
	return parked == 0 && loose == 0 && !r.busy
}

func (r *Runner) loop() {
	for j := range r.jobs {
		v, err := protect(j.work)
		blockMu.Lock()
		r.busy = false
		j.v, j.err, j.over = v, err, true
		left := j.left
		blockMu.Unlock()
		if left {
			j.settle(v, err)
		} else {
			close(j.done)
		}
	}
}

func protect(work func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("larder: Go panic: %v", r)
		}
	}()
	return work()
}
