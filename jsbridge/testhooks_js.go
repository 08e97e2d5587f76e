//go:build js && larder_test_hooks

package jsbridge

import (
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
// for the page to kill the worker.
func testHook(op string, req jsutil.Value) bool {
	if op != "__fault" {
		return false
	}
	switch str(req, "kind") {
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
	return true
}
