//go:build js

package jsutil

import "syscall/js"

// CopyBytesToJS copies src into the Uint8Array dst (js.CopyBytesToJS): for
// hot paths that reuse one JS buffer instead of allocating per call.
func CopyBytesToJS(dst Value, src []byte) int { return js.CopyBytesToJS(dst, src) }

// CopyBytesToGo copies the Uint8Array src into dst (js.CopyBytesToGo).
func CopyBytesToGo(dst []byte, src Value) int { return js.CopyBytesToGo(dst, src) }
