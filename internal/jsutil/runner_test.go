package jsutil

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type settled struct {
	v   any
	err error
}

func settler() (func(any, error), chan settled) {
	ch := make(chan settled, 1)
	return func(v any, err error) { ch <- settled{v, err} }, ch
}

func wait(t *testing.T, ch chan settled) settled {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("settle was never called")
		return settled{}
	}
}

func TestRunnerAnswersSynchronously(t *testing.T) {
	r := NewRunner()
	settle, ch := settler()
	v, err, sync := r.Call(func() (any, error) { return 42, nil }, settle)
	if !sync || err != nil || v != 42 {
		t.Fatalf("Call = %v, %v, sync %v; want 42, nil, sync", v, err, sync)
	}
	select {
	case s := <-ch:
		t.Fatalf("settle called for a synchronous answer: %v", s)
	default:
	}
	_, err, sync = r.Call(func() (any, error) { return nil, errors.New("boom") }, settle)
	if !sync || err == nil || err.Error() != "boom" {
		t.Fatalf("failing work: err %v, sync %v", err, sync)
	}
}

// A work that waits on JavaScript (announced with Blocking) turns the call
// asynchronous; later calls go asynchronous too until the wait is over.
func TestRunnerGoesAsynchronousOnBlocking(t *testing.T) {
	r := NewRunner()
	release := make(chan struct{})
	settle, ch := settler()
	_, _, sync := r.Call(func() (any, error) {
		done := Blocking()
		<-release
		done()
		return "late", nil
	}, settle)
	if sync {
		t.Fatal("a work that blocked answered synchronously")
	}
	// The runner is busy and a goroutine is parked: the next call must not
	// wait for either.
	settle2, ch2 := settler()
	_, _, sync = r.Call(func() (any, error) { return "second", nil }, settle2)
	if sync {
		t.Fatal("a call while another waits on JavaScript answered synchronously")
	}
	if s := wait(t, ch2); s.v != "second" {
		t.Fatalf("second call settled with %v", s)
	}
	close(release)
	if s := wait(t, ch); s.v != "late" || s.err != nil {
		t.Fatalf("blocked call settled with %v", s)
	}
	// Everything idle again: synchronous once more.
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _, sync := r.Call(func() (any, error) { return 1, nil }, func(any, error) {})
		if sync && v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner never answered synchronously again")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunnerPanicIsAnError(t *testing.T) {
	r := NewRunner()
	_, err, sync := r.Call(func() (any, error) { panic("kaboom") }, func(any, error) {})
	if !sync || err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("panic: err %v, sync %v", err, sync)
	}
	if v, _, _ := r.Call(func() (any, error) { return "alive", nil }, func(any, error) {}); v != "alive" {
		t.Fatalf("runner dead after a panic: %v", v)
	}
}

// A call made from inside a running work (JavaScript called back into Go)
// must not wait for the runner it runs on.
func TestRunnerNestedCall(t *testing.T) {
	r := NewRunner()
	settle, ch := settler()
	v, err, sync := r.Call(func() (any, error) {
		_, _, sync := r.Call(func() (any, error) { return "inner", nil }, settle)
		if sync {
			return nil, errors.New("nested call answered synchronously")
		}
		return "outer", nil
	}, func(any, error) {})
	if !sync || err != nil || v != "outer" {
		t.Fatalf("outer call = %v, %v, sync %v", v, err, sync)
	}
	if s := wait(t, ch); s.v != "inner" {
		t.Fatalf("inner call settled with %v", s)
	}
}

func TestRunnerQuiet(t *testing.T) {
	r := NewRunner()
	if !r.Quiet() {
		t.Fatal("a new runner is not quiet")
	}
	release := make(chan struct{})
	r.Call(func() (any, error) {
		done := Blocking()
		<-release
		done()
		return nil, nil
	}, func(any, error) {})
	if r.Quiet() {
		t.Fatal("quiet while a call waits on JavaScript")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for !r.Quiet() {
		if time.Now().After(deadline) {
			t.Fatal("never quiet again after the call settled")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
