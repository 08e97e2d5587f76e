package main

import (
	"encoding/binary"
	"slices"
	"testing"
)

func leb(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }

func sectionBytes(id byte, body []byte) []byte {
	return append(append([]byte{id}, leb(len(body))...), body...)
}

func str(s string) []byte { return append(leb(len(s)), s...) }

// A module built by hand: one imported function, three defined ones with
// bodies of 3, 5 and 7 bytes, and their names.
func testModule() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, sectionBytes(1, []byte{1, 0x60, 0, 0})...) // one type: () → ()
	imp := append(leb(1), str("gojs")...)
	imp = append(imp, str("runtime.wasmExit")...)
	imp = append(imp, 0, 0) // function, type 0
	b = append(b, sectionBytes(2, imp)...)
	b = append(b, sectionBytes(3, []byte{3, 0, 0, 0})...)
	code := leb(3)
	for _, n := range []int{3, 5, 7} {
		body := make([]byte, n)
		body[n-1] = 0x0b // end
		code = append(code, append(leb(n), body...)...)
	}
	b = append(b, sectionBytes(10, code)...)
	names := leb(4)
	for i, n := range []string{"runtime.wasmExit", "github.com_x_y.__T_.M", "fmt.__pp_.doPrintf", "github.com_x_y.F"} {
		names = append(append(names, leb(i)...), str(n)...)
	}
	custom := append(str("name"), append([]byte{1}, append(leb(len(names)), names...)...)...)
	return append(b, sectionBytes(0, custom)...)
}

func TestByPackage(t *testing.T) {
	m, err := parse(testModule())
	if err != nil {
		t.Fatal(err)
	}
	if m.imported != 1 || !slices.Equal(m.bodies, []int{3, 5, 7}) || len(m.names) != 4 {
		t.Fatalf("parsed %d imported, bodies %v, %d names", m.imported, m.bodies, len(m.names))
	}
	got := m.byPackage()
	want := []pkgSize{{"github.com_x_y", 10}, {"fmt", 5}}
	if !slices.Equal(got, want) {
		t.Fatalf("byPackage = %v, want %v", got, want)
	}
	if _, err := parse(testModule()[:40]); err == nil {
		t.Error("a truncated module parsed")
	}
	if _, err := parse([]byte("not wasm")); err == nil {
		t.Error("a non-module parsed")
	}
}

func TestPackageOf(t *testing.T) {
	for fn, want := range map[string]string{
		"github.com_ncruces_go_sqlite3.__Conn_.Exec": "github.com_ncruces_go_sqlite3",
		"golang.org_x_sys_unix.Syscall":              "golang.org_x_sys_unix",
		"fmt.__pp_.doPrintf":                         "fmt",
		"internal_strconv.FormatInt":                 "internal_strconv",
		"runtime.gc_trigger":                         "runtime",
		"type_.eq.foo":                               "type_",
		"":                                           "(unnamed)",
	} {
		if got := packageOf(fn); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", fn, got, want)
		}
	}
}
