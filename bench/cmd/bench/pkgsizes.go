//go:build !js

package main

// What each Go package contributes to larder.wasm. `go tool nm` does not
// read wasm files, so the runner builds ./wasm once more as `make build`
// does but without -s -w (which drop the symbol names), reads the name
// section of that module (function index → Go symbol) and the size of every
// function body in its code section, and sums the bodies by package path.
// Data segments (type descriptors, strings, static data) carry no names in
// a wasm module and are reported as one line.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// pkgSize is one package path's share of larder.wasm.
type pkgSize struct {
	Package string `json:"package"`
	Bytes   int64  `json:"bytes"`
	Funcs   int    `json:"funcs"`
}

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

// breakdown parses a wasm module: the imported functions (which shift the
// indices of the defined ones), the code section's bodies and the name
// section's function names, and sums the bodies by package (of pkgs, the
// packages linked in).
func breakdown(m []byte, pkgs []string) (*wasmBreakdown, error) {
	if len(m) < 8 || !bytes.Equal(m[:4], []byte("\x00asm")) {
		return nil, errors.New("not a wasm module")
	}
	bd := &wasmBreakdown{Total: int64(len(m))}
	var bodies []int64
	names := map[uint32]string{}
	imported := uint32(0)
	r := &wasmReader{b: m, p: 8}
	for r.p < len(r.b) {
		id := r.byte()
		size := int(r.uleb())
		if r.err != nil || r.p+size > len(r.b) {
			return nil, errors.New("truncated section")
		}
		sec := &wasmReader{b: r.b[r.p : r.p+size]}
		r.p += size
		switch id {
		case 2: // imports
			for n := sec.uleb(); n > 0 && sec.err == nil; n-- {
				sec.name()
				sec.name()
				kind := sec.byte()
				switch kind {
				case 0:
					sec.uleb()
					imported++
				case 1: // table: reftype, limits
					sec.byte()
					sec.limits()
				case 2:
					sec.limits()
				case 3:
					sec.byte()
					sec.byte()
				default:
					return nil, fmt.Errorf("import kind %d", kind)
				}
			}
		case 10: // code
			bd.Code += int64(size)
			for n := sec.uleb(); n > 0 && sec.err == nil; n-- {
				l := sec.uleb()
				bodies = append(bodies, int64(l))
				sec.p += int(l)
			}
		case 11:
			bd.Data += int64(size)
		case 0:
			if sec.name() != "name" {
				bd.Other += int64(size)
				continue
			}
			bd.Other += int64(size)
			for sec.p < len(sec.b) && sec.err == nil {
				sub := sec.byte()
				l := int(sec.uleb())
				if sub != 1 {
					sec.p += l
					continue
				}
				fn := &wasmReader{b: sec.b[sec.p : sec.p+l]}
				sec.p += l
				for n := fn.uleb(); n > 0 && fn.err == nil; n-- {
					idx := uint32(fn.uleb())
					names[idx] = fn.name()
				}
			}
		default:
			bd.Other += int64(size)
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, sec.err)
		}
	}
	if len(names) == 0 {
		return nil, errors.New("no name section (a build with -s?)")
	}
	byPkg := map[string]*pkgSize{}
	for i, n := range bodies {
		pkg := packageOf(names[imported+uint32(i)], pkgs)
		p := byPkg[pkg]
		if p == nil {
			p = &pkgSize{Package: pkg}
			byPkg[pkg] = p
		}
		p.Bytes += n
		p.Funcs++
	}
	for _, p := range byPkg {
		bd.Packages = append(bd.Packages, *p)
	}
	slices.SortFunc(bd.Packages, func(a, b pkgSize) int {
		if a.Bytes != b.Bytes {
			return int(b.Bytes - a.Bytes)
		}
		return strings.Compare(a.Package, b.Package)
	})
	return bd, nil
}

// packageOf is the package (of pkgs) a function name of the name section
// belongs to. Go's wasm linker writes "github.com/x/y-z.(*T).M" as
// "github.com_x_y_z.(*T).M", so each package path is compared in that form,
// the longest match winning; what matches none (compiler-generated
// "type:.eq.…", wrappers) goes under "(other)".
func packageOf(sym string, pkgs []string) string {
	best := ""
	for _, p := range pkgs {
		q := linkerName(p)
		if len(q) > len(linkerName(best)) && strings.HasPrefix(sym, q) && len(sym) > len(q) && sym[len(q)] == '.' {
			best = p
		}
	}
	if best == "" {
		return "(other)"
	}
	return best
}

// linkerName is a package path as Go's wasm linker writes it in names.
func linkerName(p string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '-' {
			return '_'
		}
		return r
	}, p)
}

type wasmReader struct {
	b   []byte
	p   int
	err error
}

func (r *wasmReader) byte() byte {
	if r.p >= len(r.b) {
		r.err = errors.New("unexpected end")
		return 0
	}
	r.p++
	return r.b[r.p-1]
}

func (r *wasmReader) uleb() uint64 {
	if r.p >= len(r.b) {
		r.err = errors.New("unexpected end")
		return 0
	}
	v, n := binary.Uvarint(r.b[r.p:])
	if n <= 0 {
		r.err = errors.New("bad LEB128")
		return 0
	}
	r.p += n
	return v
}

func (r *wasmReader) name() string {
	l := int(r.uleb())
	if r.err != nil || r.p+l > len(r.b) {
		r.err = errors.New("bad name")
		return ""
	}
	s := string(r.b[r.p : r.p+l])
	r.p += l
	return s
}

func (r *wasmReader) limits() {
	if r.byte()&1 == 1 {
		r.uleb()
	}
	r.uleb()
}
