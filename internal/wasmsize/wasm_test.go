package wasmsize

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func leb(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }

func sectionBytes(id byte, body []byte) []byte {
	return append(append([]byte{id}, leb(len(body))...), body...)
}

func str(s string) []byte { return append(leb(len(s)), s...) }

// testModule is a module built by hand: one imported function, defined
// functions with bodies of the given sizes, and names (function index →
// name; none: no name section).
func testModule(bodies []int, names []string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, sectionBytes(1, []byte{1, 0x60, 0, 0})...) // one type: () → ()
	imp := append(leb(1), str("gojs")...)
	imp = append(imp, str("runtime.wasmExit")...)
	imp = append(imp, 0, 0) // function, type 0
	b = append(b, sectionBytes(2, imp)...)
	b = append(b, sectionBytes(3, append(leb(len(bodies)), make([]byte, len(bodies))...))...)
	code := leb(len(bodies))
	for _, n := range bodies {
		body := make([]byte, n)
		body[n-1] = 0x0b // end
		code = append(code, append(leb(n), body...)...)
	}
	b = append(b, sectionBytes(Code, code)...)
	b = append(b, sectionBytes(Data, []byte{0})...) // no segments
	if names == nil {
		return b
	}
	fn := leb(len(names))
	for i, n := range names {
		fn = append(append(fn, leb(i)...), str(n)...)
	}
	custom := append(str("name"), append([]byte{1}, append(leb(len(fn)), fn...)...)...)
	return append(b, sectionBytes(Custom, custom)...)
}

func TestParse(t *testing.T) {
	b := testModule([]int{3, 5, 7}, []string{"runtime.wasmExit", "github.com_x_y.__T_.M", "fmt.__pp_.doPrintf", "github.com_x_y.F"})
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != len(b) || m.Imported != 1 || !slices.Equal(m.Bodies, []int{3, 5, 7}) || len(m.Names) != 4 || m.Names[3] != "github.com_x_y.F" {
		t.Fatalf("parsed size %d, %d imported, bodies %v, names %v", m.Size, m.Imported, m.Bodies, m.Names)
	}
	var names []string
	for _, s := range m.Sections {
		names = append(names, s.Name)
	}
	if want := []string{"type", "import", "function", "code", "data", "custom:name"}; !slices.Equal(names, want) {
		t.Errorf("sections %v, want %v", names, want)
	}
	if got := m.SectionSize(Code); got != 1+4+6+8 {
		t.Errorf("code section: %d bytes, want 19", got)
	}
	if got := m.SectionSize(Data); got != 1 {
		t.Errorf("data section: %d bytes, want 1", got)
	}
}

// TestParseBad: what is not a well-formed module with names is an error,
// never a panic nor a partial answer.
func TestParseBad(t *testing.T) {
	good := testModule([]int{3, 5}, []string{"a.F", "b.G", "c.H"})
	if _, err := Parse(testModule([]int{3}, nil)); !errors.Is(err, ErrNoNames) {
		t.Errorf("a module without names: %v, want ErrNoNames", err)
	}
	if _, err := Parse([]byte("not wasm")); err == nil {
		t.Error("not a module: no error")
	}
	for n := 9; n < len(good); n++ {
		if _, err := Parse(good[:n]); err == nil {
			t.Errorf("the module cut to %d of %d bytes parsed", n, len(good))
		}
	}
	// A name subsection longer than its section.
	bad := append([]byte("\x00asm\x01\x00\x00\x00"), sectionBytes(Custom, append(str("name"), 1, 100, 1))...)
	if _, err := Parse(bad); err == nil {
		t.Error("a name subsection past its section: no error")
	}
	if _, err := Parse(append([]byte("\x00asm\x01\x00\x00\x00"), 1, 0xff, 0xff, 0xff, 0xff, 0x7f)); err == nil {
		t.Error("a section size of 35 bits: no error")
	}
}

func TestByPackage(t *testing.T) {
	m, err := Parse(testModule([]int{3, 5, 7, 11, 13}, []string{
		"go.debug", "github.com_x_y_z.__T_.M", "runtime.mallocgc", "github.com_x_y.F", "main.main", "type_.eq.internal_abi.ITab",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := m.ByPackage([]string{"runtime", "github.com/x/y-z", "github.com/x/y", "github.com/x/cmd"})
	want := []PackageSize{{Other, 13, 1}, {"main", 11, 1}, {"github.com/x/y", 7, 1}, {"runtime", 5, 1}, {"github.com/x/y-z", 3, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("ByPackage = %v, want %v", got, want)
	}
}

func TestPackageOf(t *testing.T) {
	pkgs := []string{"github.com/a/b", "github.com/a/b/c", "regexp", "regexp/syntax", "github.com/ncruces/go-sqlite3",
		"github.com/ncruces/go-sqlite3-wasm/v6", "internal/strconv", "gopkg.in/yaml.v3", "example.com/a+b"}
	for fn, want := range map[string]string{
		"github.com_a_b_c.F":                            "github.com/a/b/c",
		"github.com_a_b.(*T).M":                         "github.com/a/b",
		"github.com_a_b.__T_.M":                         "github.com/a/b",
		"regexp_syntax.(*parser).x":                     "regexp/syntax",
		"regexp.MustCompile":                            "regexp",
		"github.com_ncruces_go_sqlite3.__Conn_.Exec":    "github.com/ncruces/go-sqlite3",
		"github.com_ncruces_go_sqlite3_wasm_v6.xmalloc": "github.com/ncruces/go-sqlite3-wasm/v6",
		"internal_strconv.FormatInt":                    "internal/strconv",
		"gopkg.in_yaml.v3.Marshal":                      "gopkg.in/yaml.v3",
		"example.com_a_b.F":                             "example.com/a+b",
		"main.main":                                     "main",
		"type_.eq.internal_abi.UncommonType":            Other,
		"type:.eq.[2]string":                            Other,
		"memcmp":                                        Other,
		"regexpx.F":                                     Other,
		"":                                              Other,
	} {
		if got := PackageOf(fn, pkgs); got != want {
			t.Errorf("PackageOf(%q) = %q, want %q", fn, got, want)
		}
	}
}
