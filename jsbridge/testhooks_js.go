//go:build js && larder_test_hooks

package jsbridge

import "github.com/larderdb/larder/internal/jsutil"

// testHook runs the fault-injection ops of the browser tests and reports
// whether op was one: "__fault" with kind "panic" (a Go panic in the call)
// or "fatal" (a fatal error of the Go runtime: the instance exits).
func testHook(op string, req jsutil.Value) bool {
	if op != "__fault" {
		return false
	}
	switch str(req, "kind") {
	case "panic":
		panic("injected panic")
	case "fatal":
		go func() { panic("injected fatal error") }()
		select {}
	}
	return true
}
