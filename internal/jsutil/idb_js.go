//go:build js

package jsutil

import (
	"context"
	"errors"
	"syscall/js"
)

// AwaitRequest blocks the calling goroutine until an IndexedDB request
// (IDBRequest) settles, and returns its result or its error as a *DOMError.
// A request that is already done returns at once. Like [Await], it must not
// be called from inside a js.FuncOf callback.
func AwaitRequest(req js.Value) (js.Value, error) {
	if req.Get("readyState").String() == "done" {
		return requestResult(req)
	}
	if _, err := awaitEvents(context.Background(), req, []string{"success"}, []string{"error"}, nil); err != nil {
		return js.Value{}, err
	}
	return requestResult(req)
}

func requestResult(req js.Value) (js.Value, error) {
	if e := req.Get("error"); e.Truthy() {
		return js.Value{}, Error(e)
	}
	return req.Get("result"), nil
}

// AwaitTransaction blocks the calling goroutine until an IDBTransaction
// completes; an "error" or "abort" event returns the transaction's error
// (an AbortError when it has none). Listeners must be attached before the
// event loop runs again, so call it right after issuing the requests.
func AwaitTransaction(tx js.Value) error {
	_, err := awaitEvents(context.Background(), tx, []string{"complete"}, []string{"error", "abort"}, func(js.Value) error {
		if e := tx.Get("error"); e.Truthy() {
			return Error(e)
		}
		return &DOMError{Name: "AbortError", Message: "IndexedDB transaction aborted"}
	})
	return err
}

// OpenIndexedDB opens IndexedDB database name at version. upgrade runs
// synchronously inside the "upgradeneeded" event, while the versionchange
// transaction is active: it may only make synchronous calls (such as
// createObjectStore) and must not block. While another connection blocks
// the open, it waits until ctx ends.
func OpenIndexedDB(ctx context.Context, name string, version int, upgrade func(db js.Value, oldVersion int)) (js.Value, error) {
	req, err := Call(js.Global().Get("indexedDB"), "open", name, version)
	if err != nil {
		return js.Value{}, err
	}
	onUpgrade := js.FuncOf(func(_ js.Value, args []js.Value) any {
		upgrade(req.Get("result"), arg0(args).Get("oldVersion").Int())
		return nil
	})
	defer onUpgrade.Release()
	req.Call("addEventListener", "upgradeneeded", onUpgrade)
	defer req.Call("removeEventListener", "upgradeneeded", onUpgrade)
	if _, err := awaitEvents(ctx, req, []string{"success"}, []string{"error"}, nil); err != nil {
		return js.Value{}, err
	}
	return requestResult(req)
}

// DeleteIndexedDB deletes IndexedDB database name, waiting (until ctx ends)
// while other connections keep it open.
func DeleteIndexedDB(ctx context.Context, name string) error {
	req, err := Call(js.Global().Get("indexedDB"), "deleteDatabase", name)
	if err != nil {
		return err
	}
	_, err = awaitEvents(ctx, req, []string{"success"}, []string{"error"}, nil)
	return err
}

// OnEvent calls fn (synchronously, inside the event: it must not block) each
// time target fires event, until the returned function is called.
func OnEvent(target js.Value, event string, fn func(ev js.Value)) (remove func()) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn(arg0(args))
		return nil
	})
	target.Call("addEventListener", event, f)
	return func() {
		target.Call("removeEventListener", event, f)
		f.Release()
	}
}

// awaitEvents waits for the first of the ok or fail events on target. A
// fail event becomes onFail(event), or the target's error property.
func awaitEvents(ctx context.Context, target js.Value, ok, fail []string, onFail func(js.Value) error) (string, error) {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, 1)
	send := func(r result) {
		select {
		case ch <- r:
		default: // already settled
		}
	}
	var funcs []js.Func
	var names []string
	for _, name := range ok {
		f := js.FuncOf(func(js.Value, []js.Value) any {
			send(result{name: name})
			return nil
		})
		funcs, names = append(funcs, f), append(names, name)
	}
	for _, name := range fail {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			var err error
			if onFail != nil {
				err = onFail(arg0(args))
			} else if e := target.Get("error"); e.Truthy() {
				err = Error(e)
			} else {
				err = &DOMError{Name: "Error", Message: name + " event"}
			}
			send(result{name: name, err: err})
			return nil
		})
		funcs, names = append(funcs, f), append(names, name)
	}
	for i, f := range funcs {
		target.Call("addEventListener", names[i], f)
	}
	defer func() {
		for i, f := range funcs {
			target.Call("removeEventListener", names[i], f)
			f.Release()
		}
	}()
	done := Blocking()
	defer done()
	select {
	case r := <-ch:
		return r.name, r.err
	case <-ctx.Done():
		return "", errors.Join(&DOMError{Name: "TimeoutError", Message: "still waiting for " + ok[0]}, ctx.Err())
	}
}
