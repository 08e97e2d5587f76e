// Package wasmsize reads a wasm module built by Go and tells what each Go
// package adds to it: the bytes of function bodies in the code section,
// grouped by the package in each function's name (the module's "name"
// section), and the size of every section. `go tool nm` does not read wasm
// modules. Data (the data section: read-only data, type descriptors, the pc
// tables) has no per-symbol record in wasm and can only be counted whole.
//
// A module built with -ldflags=-s has no name section: measure a build
// without -s. Both the bench runner (bench/cmd/bench) and `make wasm-size`
// (the command in cmd/wasmsize) use this package.
package wasmsize

import (
	"bytes"
	"errors"
	"fmt"
)

// Module is what wasmsize reads of a wasm module
// (https://webassembly.github.io/spec/core/binary/modules.html).
type Module struct {
	Size     int            // bytes of the whole module
	Sections []Section      // in the order of the module
	Imported int            // imported functions: they come first in the function index space
	Bodies   []int          // size of each function body, by defined-function index
	Names    map[int]string // function index → name (the "name" custom section, subsection 1)
}

// Section is one section of a module; Size excludes its id and size bytes.
type Section struct {
	ID   byte
	Name string // "code", "data", …; "custom:NAME" for a custom section
	Size int
}

// Section ids (https://webassembly.github.io/spec/core/binary/modules.html#sections).
const (
	Custom byte = 0
	Import byte = 2
	Code   byte = 10
	Data   byte = 11
)

var sectionNames = []string{"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "datacount"}

var errTruncated = errors.New("truncated module")

// ErrNoNames is returned by Parse for a module without function names (built with -ldflags=-s).
var ErrNoNames = errors.New("no function names (a build with -ldflags=-s?): build it without -s")

type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errTruncated
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uint reads an unsigned LEB128 number of at most 32 bits.
func (r *reader) uint() int {
	n, shift := 0, 0
	for {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		n |= int(c&0x7f) << shift
		if c < 0x80 {
			return n
		}
		if shift += 7; shift > 28 {
			r.err = errors.New("LEB128 number too long")
			return 0
		}
	}
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errTruncated
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) name() string { return string(r.bytes(r.uint())) }

// Parse reads a module's sections, its imported functions (which shift the
// indices of the defined ones), the sizes of its function bodies and the
// function names of its name section. A module without names is an error
// (ErrNoNames): nothing could be grouped by package.
func Parse(b []byte) (*Module, error) {
	if !bytes.HasPrefix(b, []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errors.New("not a wasm module (version 1)")
	}
	m := &Module{Size: len(b), Names: map[int]string{}}
	r := &reader{b: b[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		body := &reader{b: r.bytes(r.uint())}
		if r.err != nil {
			break
		}
		name := fmt.Sprintf("id%d", id)
		if int(id) < len(sectionNames) {
			name = sectionNames[id]
		}
		size := len(body.b)
		switch id {
		case Custom:
			name = "custom:" + body.name()
			if name == "custom:name" {
				m.readNames(body)
			}
		case Import:
			m.readImports(body)
		case Code:
			for range body.uint() {
				n := body.uint()
				body.bytes(n)
				m.Bodies = append(m.Bodies, n)
			}
		}
		if body.err != nil {
			return nil, fmt.Errorf("section %s: %w", name, body.err)
		}
		m.Sections = append(m.Sections, Section{id, name, size})
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(m.Names) == 0 {
		return nil, ErrNoNames
	}
	return m, nil
}

func (m *Module) readImports(r *reader) {
	for range r.uint() {
		r.name() // module
		r.name() // field
		switch kind := r.byte(); kind {
		case 0: // function: type index
			r.uint()
			m.Imported++
		case 1: // table: element type, limits
			r.byte()
			limits(r)
		case 2: // memory: limits
			limits(r)
		case 3: // global: value type, mutability
			r.bytes(2)
		default:
			if r.err == nil {
				r.err = fmt.Errorf("import kind %d", kind)
			}
			return
		}
	}
}

func limits(r *reader) {
	if r.byte()&1 != 0 {
		r.uint()
	}
	r.uint()
}

// readNames reads the function names (subsection 1) of the name section.
func (m *Module) readNames(r *reader) {
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sub := &reader{b: r.bytes(r.uint())}
		if id != 1 || r.err != nil {
			continue
		}
		for range sub.uint() {
			i := sub.uint()
			m.Names[i] = sub.name()
		}
		r.err = sub.err
	}
}

// SectionSize is the sum of the sizes of the sections with this id.
func (m *Module) SectionSize(id byte) int {
	n := 0
	for _, s := range m.Sections {
		if s.ID == id {
			n += s.Size
		}
	}
	return n
}
