//go:build js && larder_test_hooks

package jsbridge

import (
	"runtime"
	"time"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/syncer"
)

// testHook runs the fault-injection ops of the browser tests and reports
// whether op was one: "__fault" with kind "panic" (a Go panic in the call)
// or "fatal" (a fatal error of the Go runtime: the instance exits), or
// "syncstall" with point "ack" or "apply": the next sync round that reaches
// that point (syncer.SetStallHook) posts the point on the BroadcastChannel
// "larder-synctest" and stalls there for good, inside its transaction,
// for the page to kill the worker; "stacks" answers every goroutine's
// stack (what a hung call waits on).
func testHook(op string, req jsutil.Value) (any, bool) {
	if op != "__fault" {
		return nil, false
	}
	switch str(req, "kind") {
	case "stacks":
		buf := make([]byte, 1<<20)
		return string(buf[:runtime.Stack(buf, true)]), true
	case "panic":
		panic("injected panic")
	case "syncstall":
		at := str(req, "point")
		syncer.SetStallHook(func(point string) {
			if point != at {
				return
			}
			syncer.SetStallHook(nil)
			ch := jsutil.Global().Get("BroadcastChannel").New("larder-synctest")
			ch.Call("postMessage", point)
			defer jsutil.Blocking()()
			for {
				time.Sleep(time.Hour)
			}
		})
	case "fatal":
		go func() { panic("injected fatal error") }()
		select {}
	}
	return nil, true
}
