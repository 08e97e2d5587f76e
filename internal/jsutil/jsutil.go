// Package jsutil is Larder's one seam onto syscall/js: awaiting Promises from
// goroutines, turning DOMExceptions into Go errors, and creating Promises
// settled by Go code. Everything else in Larder that touches JavaScript goes
// through here, and exported Larder types never expose js.Value.
//
// The rule it encodes (see Go's syscall/js FuncOf doc): a goroutine may block
// on a Promise, but a js.FuncOf callback must never block on JavaScript.
// Callbacks either hand work to a goroutine and return a Promise (see
// [Promise]), or run it through a [Runner], which answers synchronously
// unless the work announces a wait on JavaScript with [Blocking].
package jsutil

import "fmt"

// DOMError is a JavaScript exception (a DOMException or Error) seen from Go.
type DOMError struct {
	Name    string // "NotFoundError", "NoModificationAllowedError", "QuotaExceededError", ...
	Message string
}

func (e *DOMError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Message)
}
