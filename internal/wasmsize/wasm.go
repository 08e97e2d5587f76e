package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// module is what wasmsize reads of a wasm module
// (https://webassembly.github.io/spec/core/binary/modules.html).
type module struct {
	sections []section
	imported int            // imported functions: they come first in the function index space
	bodies   []int          // size of each function body, by defined-function index
	names    map[int]string // function index → name (the "name" custom section, subsection 1)
}

type section struct {
	name string
	size int
}

var sectionNames = []string{"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "datacount"}

var errTruncated = errors.New("truncated module")

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

// uint reads an unsigned LEB128 number.
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
		if shift += 7; shift > 35 {
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

func parse(b []byte) (*module, error) {
	if !bytes.HasPrefix(b, []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errors.New("not a wasm module (version 1)")
	}
	m := &module{names: map[int]string{}}
	r := &reader{b: b[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := int(r.byte())
		body := &reader{b: r.bytes(r.uint())}
		if r.err != nil {
			break
		}
		name := fmt.Sprintf("id%d", id)
		if id < len(sectionNames) {
			name = sectionNames[id]
		}
		size := len(body.b)
		switch id {
		case 0:
			name = "custom:" + body.name()
			if name == "custom:name" {
				m.readNames(body)
			}
		case 2:
			m.readImports(body)
		case 10:
			for range body.uint() {
				n := body.uint()
				body.bytes(n)
				m.bodies = append(m.bodies, n)
			}
		}
		if body.err != nil {
			return nil, fmt.Errorf("section %s: %w", name, body.err)
		}
		m.sections = append(m.sections, section{name, size})
	}
	return m, r.err
}

func (m *module) readImports(r *reader) {
	for range r.uint() {
		r.name() // module
		r.name() // field
		switch kind := r.byte(); kind {
		case 0: // function: type index
			r.uint()
			m.imported++
		case 1: // table: element type, limits
			r.byte()
			limits(r)
		case 2: // memory: limits
			limits(r)
		case 3: // global: value type, mutability
			r.bytes(2)
		default:
			r.err = fmt.Errorf("import kind %d", kind)
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
func (m *module) readNames(r *reader) {
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sub := &reader{b: r.bytes(r.uint())}
		if id != 1 {
			continue
		}
		for range sub.uint() {
			i := sub.uint()
			m.names[i] = sub.name()
		}
		r.err = sub.err
	}
}

type pkgSize struct {
	name string
	size int
}

// byPackage sums the function bodies by package, largest first.
func (m *module) byPackage() []pkgSize {
	sums := map[string]int{}
	for i, n := range m.bodies {
		sums[packageOf(m.names[m.imported+i])] += n
	}
	out := make([]pkgSize, 0, len(sums))
	for p, n := range sums {
		out = append(out, pkgSize{p, n})
	}
	slices.SortFunc(out, func(a, b pkgSize) int { return cmp.Or(b.size-a.size, strings.Compare(a.name, b.name)) })
	return out
}

// packageOf returns the package of a Go function name as the wasm name
// section spells it: "github.com_ncruces_go_sqlite3.__Conn_.Exec" (for
// (*Conn).Exec) is in "github.com_ncruces_go_sqlite3" (Go writes / and
// other punctuation as _ there), "fmt.__pp_.doPrintf" in "fmt". The
// package ends at the first dot after the host name of its import path, if
// it has one (std packages have none).
func packageOf(fn string) string {
	if fn == "" {
		return "(unnamed)"
	}
	start := 0
	if host, _, ok := strings.Cut(fn, "_"); ok && isHost(host) {
		start = len(host) + 1
	}
	if i := strings.IndexByte(fn[start:], '.'); i >= 0 {
		return fn[:start+i]
	}
	return fn
}

// isHost reports whether the first element of a mangled import path is a
// host name (github.com, golang.org, gopkg.in, go.uber.org, …) rather than
// a std package followed by a name with an underscore.
func isHost(s string) bool {
	for _, tld := range []string{".com", ".org", ".net", ".io", ".in", ".dev"} {
		if strings.HasSuffix(s, tld) && len(s) > len(tld) {
			return true
		}
	}
	return false
}
