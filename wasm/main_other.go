//go:build !js

// Command wasm is larder.wasm; it only runs in the browser. Build it with
// `make build` (GOOS=js GOARCH=wasm).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "larder.wasm runs in the browser: build it with GOOS=js GOARCH=wasm (make build)")
	os.Exit(1)
}
