//go:build js

package jsutil

import (
	"fmt"
	"syscall/js"
)

// Global returns globalThis.
func Global() js.Value { return js.Global() }

// Await blocks the calling goroutine until p settles. It must not be called
// from inside a js.FuncOf callback (that deadlocks the Go program); call it
// from a goroutine started by the callback instead. A rejection becomes a
// *DOMError.
func Await(p js.Value) (js.Value, error) {
	if p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
		return p, nil // not a thenable: already a value
	}
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var onOK, onErr js.Func
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg0(args)}
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: Error(arg0(args))}
		return nil
	})
	p.Call("then", onOK, onErr)
	done := Blocking()
	r := <-ch
	done()
	onOK.Release()
	onErr.Release()
	return r.v, r.err
}

// Call invokes v[method](args...) and converts a thrown exception into an
// error instead of a Go panic.
func Call(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
		}
	}()
	return v.Call(method, args...), nil
}

// Error converts a thrown JS value into a Go error.
func Error(v js.Value) error {
	if v.Type() == js.TypeObject {
		name, msg := v.Get("name"), v.Get("message")
		if name.Type() == js.TypeString {
			m := ""
			if msg.Type() == js.TypeString {
				m = msg.String()
			}
			return &DOMError{Name: name.String(), Message: m}
		}
	}
	return &DOMError{Name: "Error", Message: v.String()}
}

func recovered(r any) error {
	if jsErr, ok := r.(js.Error); ok {
		return Error(jsErr.Value)
	}
	if err, ok := r.(error); ok {
		return err
	}
	return fmt.Errorf("%v", r)
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// Promise returns a JS Promise settled by work, which runs on a new goroutine
// so the calling js.FuncOf callback returns at once. A panic in work rejects
// the Promise with the panic's message instead of killing the program
// silently. toJS converts work's result; errors pass through toError.
func Promise(work func() (any, error), toError func(error) js.Value) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			var (
				v   any
				err error
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("larder: Go panic: %v", r)
					}
				}()
				v, err = work()
			}()
			if err != nil {
				reject.Invoke(toError(err))
			} else {
				resolve.Invoke(v)
			}
		}()
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	return p
}
