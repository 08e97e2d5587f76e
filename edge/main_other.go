//go:build !js

// Command edge is Larder's Cloudflare Worker. It only runs as WebAssembly
// in workerd (GOOS=js GOARCH=wasm): `make edge` starts it locally. Built
// natively it only says so; its logic is tested natively through the same
// server type.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "edge: this is a Cloudflare Worker; build it with GOOS=js GOARCH=wasm, or run `make edge`")
	os.Exit(2)
}
