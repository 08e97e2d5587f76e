//go:build js

package jsutil

import "syscall/js"

// Value is js.Value, re-exported so that packages above this seam can hold
// and pass JavaScript values without importing syscall/js themselves.
type Value = js.Value

// Type constants of [Value.Type], re-exported for the same reason.
const (
	TypeUndefined = js.TypeUndefined
	TypeNull      = js.TypeNull
	TypeBoolean   = js.TypeBoolean
	TypeNumber    = js.TypeNumber
	TypeString    = js.TypeString
	TypeSymbol    = js.TypeSymbol
	TypeObject    = js.TypeObject
	TypeFunction  = js.TypeFunction
)

// Undefined and Null return the JS values of those names.
func Undefined() Value { return js.Undefined() }
func Null() Value      { return js.Null() }

// ValueOf is js.ValueOf.
func ValueOf(x any) Value { return js.ValueOf(x) }

// Object returns a new empty JS object.
func Object() Value { return js.Global().Get("Object").New() }

// Array returns a new JS array of length n.
func Array(n int) Value { return js.Global().Get("Array").New(n) }

// Uint8Array copies b into a new JS Uint8Array.
func Uint8Array(b []byte) Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// IsBytes reports whether v is a Uint8Array, another typed array view, or an
// ArrayBuffer.
func IsBytes(v Value) bool {
	if v.Type() != js.TypeObject {
		return false
	}
	return v.InstanceOf(js.Global().Get("ArrayBuffer")) || js.Global().Get("ArrayBuffer").Call("isView", v).Bool()
}

// Bytes copies the bytes of a Uint8Array, typed array view or ArrayBuffer
// into Go memory.
func Bytes(v Value) []byte {
	u8 := js.Global().Get("Uint8Array")
	switch {
	case v.InstanceOf(u8):
	case v.InstanceOf(js.Global().Get("ArrayBuffer")):
		v = u8.New(v)
	default: // another ArrayBuffer view
		v = u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// IsArray reports whether v is a JS array.
func IsArray(v Value) bool {
	return js.Global().Get("Array").Call("isArray", v).Bool()
}

// TypeOf returns JS typeof v, which unlike [Value.Type] tells "bigint"
// ([Value.Type] panics on a BigInt: wasm_exec.js gives it no type flag).
// It compiles no code (no Function constructor), so it works under a CSP
// without 'unsafe-eval', such as an MV3 extension's.
func TypeOf(v Value) string {
	// Object.prototype.toString tells a BigInt by its tag, and is safe on
	// any value; every other type is then safe for v.Type().
	if objectToString().Call("call", v).String() == "[object BigInt]" {
		return "bigint"
	}
	switch v.Type() {
	case js.TypeUndefined:
		return "undefined"
	case js.TypeBoolean:
		return "boolean"
	case js.TypeNumber:
		return "number"
	case js.TypeString:
		return "string"
	case js.TypeSymbol:
		return "symbol"
	case js.TypeFunction:
		return "function"
	}
	return "object" // objects and null, as typeof says
}

var objectToStringFunc js.Value

func objectToString() js.Value {
	if objectToStringFunc.IsUndefined() {
		objectToStringFunc = js.Global().Get("Object").Get("prototype").Get("toString")
	}
	return objectToStringFunc
}

// Keys returns Object.keys(v).
func Keys(v Value) []string {
	k := js.Global().Get("Object").Call("keys", v)
	out := make([]string, k.Length())
	for i := range out {
		out[i] = k.Index(i).String()
	}
	return out
}

// BigInt returns a JS BigInt parsed from its decimal text.
func BigInt(decimal string) Value { return js.Global().Get("BigInt").Invoke(decimal) }

// Func wraps fn as a JS function that never blocks: each call runs fn on a
// new goroutine and returns a Promise settled with its result, as
// [Promise] does. Release the returned js.Func when it is no longer needed.
func Func(fn func(this Value, args []Value) (any, error), toError func(error) Value) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) any {
		args = append([]js.Value(nil), args...)
		return Promise(func() (any, error) { return fn(this, args) }, toError)
	})
}

// SyncFunc wraps fn as a JS function that runs synchronously on the JS
// thread. fn must not block (no channel waits, no [Await]).
func SyncFunc(fn func(this Value, args []Value) any) js.Func {
	return js.FuncOf(fn)
}
