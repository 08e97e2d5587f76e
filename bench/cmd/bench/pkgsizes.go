//go:build !js

package main

// What each Go package contributes to larder.wasm. `go tool nm` does not
// read wasm files, so the runner builds ./wasm once more as `make build`
// does but without -s -w (which drop the symbol names) and reads it with
// internal/wasmsize: the name section (function index → Go symbol) and the
// size of every function body in the code section, summed by package path.
// Data segments (type descriptors, strings, static data) carry no names in
// a wasm module and are reported as one line.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/larderdb/larder/internal/wasmsize"
)

// pkgSize is one package path's share of larder.wasm.
type pkgSize = wasmsize.PackageSize

// wasmBreakdown is larder.wasm by package, from a build with symbols.
type wasmBreakdown struct {
	Build    string    `json:"build"`    // the command that built the module read
	Total    int64     `json:"total"`    // that module's size
	Stripped int64     `json:"stripped"` // dist/larder.wasm (built with -s -w)
	Code     int64     `json:"code"`     // the code section
	Data     int64     `json:"data"`     // the data section
	Other    int64     `json:"other"`    // every other section (names, types, imports, …)
	Packages []pkgSize `json:"packages"` // function bodies by package, largest first
}

// measurePackages builds ./wasm with symbols into a temporary file and
// breaks it down by package.
func measurePackages(root string) (*wasmBreakdown, error) {
	tmp, err := os.MkdirTemp("", "larder-bench-nm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "larder.wasm")
	args := []string{"build", "-trimpath", "-o", out, "./wasm"}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go %s: %v: %s", strings.Join(args, " "), err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	list := exec.Command("go", "list", "-deps", "./wasm")
	list.Dir = root
	list.Env = cmd.Env
	pkgs, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go list -deps ./wasm: %v", err)
	}
	bd, err := breakdown(data, strings.Fields(string(pkgs)))
	if err != nil {
		return nil, err
	}
	bd.Build = "GOOS=js GOARCH=wasm go " + strings.Join(args[:2], " ") + " ./wasm (as make build, without -ldflags=\"-s -w\")"
	if st, err := os.Stat(filepath.Join(root, "dist", "larder.wasm")); err == nil {
		bd.Stripped = st.Size()
	}
	return bd, nil
}

// breakdown reads a wasm module (package wasmsize) and sums its function
// bodies by package (of pkgs, the packages linked in).
func breakdown(m []byte, pkgs []string) (*wasmBreakdown, error) {
	mod, err := wasmsize.Parse(m)
	if err != nil {
		return nil, err
	}
	bd := &wasmBreakdown{
		Total:    int64(mod.Size),
		Code:     int64(mod.SectionSize(wasmsize.Code)),
		Data:     int64(mod.SectionSize(wasmsize.Data)),
		Packages: mod.ByPackage(pkgs),
	}
	for _, s := range mod.Sections {
		bd.Other += int64(s.Size)
	}
	bd.Other -= bd.Code + bd.Data
	return bd, nil
}
