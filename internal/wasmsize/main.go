// Command wasmsize tells what each Go package adds to a wasm module built by
// Go: the bytes of function bodies in the code section, grouped by the
// package in each function's name (the module's "name" section), and the
// size of every section. `go tool nm` does not read wasm modules.
//
// larder.wasm is built stripped (-ldflags=-s -w: no name section), so
// measure a build with names; `make wasm-size` does both:
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/larder-names.wasm ./wasm
//	go run ./internal/wasmsize [-top 40] /tmp/larder-names.wasm
//
// Data (the data section: read-only data, type descriptors, the pc tables)
// is reported as a whole: wasm keeps no per-symbol record of it.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	top := flag.Int("top", 40, "packages to list, largest first")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-top N] FILE.wasm (a GOOS=js build with its name section)")
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
	m, err := parse(b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmsize: %s: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
	if len(m.names) == 0 {
		fmt.Fprintf(os.Stderr, "wasmsize: %s has no function names (built with -ldflags=-s?): build it without -s\n", flag.Arg(0))
		os.Exit(1)
	}
	fmt.Printf("%d bytes\n", len(b))
	for _, s := range m.sections {
		fmt.Printf("  section %-12s %10d\n", s.name, s.size)
	}
	pkgs := m.byPackage()
	fmt.Printf("code by package (%d packages):\n", len(pkgs))
	for i, p := range pkgs {
		if i == *top {
			break
		}
		fmt.Printf("  %10d  %s\n", p.size, p.name)
	}
}
