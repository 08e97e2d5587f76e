// Command wasmsize tells what each Go package adds to a wasm module built by
// Go (package wasmsize): the bytes of function bodies by package, and the
// size of every section.
//
// larder.wasm is built stripped (-ldflags=-s -w: no name section), so
// measure a build with names; `make wasm-size` does both:
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/larder-names.wasm ./wasm
//	go run ./internal/wasmsize/cmd/wasmsize [-top 40] ./wasm /tmp/larder-names.wasm
//
// The first argument is the main package the module was built from: its
// packages (GOOS=js GOARCH=wasm go list -deps) are how function names are
// told apart by import path.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/larderdb/larder/internal/wasmsize"
)

func main() {
	top := flag.Int("top", 40, "packages to list, largest first")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-top N] PACKAGE FILE.wasm (PACKAGE: the main package FILE, a GOOS=js build with its name section, was built from)")
		os.Exit(2)
	}
	pkg, file := flag.Arg(0), flag.Arg(1)
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmsize: GOOS=js GOARCH=wasm go list -deps %s: %v\n", pkg, err)
		os.Exit(1)
	}
	pkgs := strings.Fields(string(out))
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
	m, err := wasmsize.Parse(b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmsize: %s: %v\n", file, err)
		os.Exit(1)
	}
	fmt.Printf("%d bytes\n", m.Size)
	for _, s := range m.Sections {
		fmt.Printf("  section %-12s %10d\n", s.Name, s.Size)
	}
	sizes := m.ByPackage(pkgs)
	fmt.Printf("code by package (%d packages):\n", len(sizes))
	for i, p := range sizes {
		if i == *top {
			fmt.Printf("  … %d more\n", len(sizes)-i)
			break
		}
		fmt.Printf("  %10d %6d  %s\n", p.Bytes, p.Funcs, p.Package)
	}
}
