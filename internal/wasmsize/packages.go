package wasmsize

import (
	"cmp"
	"slices"
	"strings"
)

// PackageSize is one package's share of a module's code.
type PackageSize struct {
	Package string `json:"package"` // import path; "main", or Other
	Bytes   int64  `json:"bytes"`   // function bodies
	Funcs   int    `json:"funcs"`
}

// Other is where PackageOf puts what belongs to no package: compiler-made
// functions ("type:.eq.…"), the runtime's assembly (memcmp, wasm_pc_f_loop)
// and exports written in assembly.
const Other = "(other)"

// ByPackage sums the function bodies by package (PackageOf with pkgs, the
// import paths of the packages linked in: `go list -deps` of the main
// package), largest first.
func (m *Module) ByPackage(pkgs []string) []PackageSize {
	mangled := make([]string, len(pkgs))
	for i, p := range pkgs {
		mangled[i] = LinkerName(p)
	}
	sums := map[string]*PackageSize{}
	for i, n := range m.Bodies {
		pkg := packageOf(m.Names[m.Imported+i], pkgs, mangled)
		p := sums[pkg]
		if p == nil {
			p = &PackageSize{Package: pkg}
			sums[pkg] = p
		}
		p.Bytes += int64(n)
		p.Funcs++
	}
	out := make([]PackageSize, 0, len(sums))
	for _, p := range sums {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PackageSize) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Package, b.Package))
	})
	return out
}

// PackageOf is the package (of pkgs, import paths) a function name of the
// name section belongs to. Go's wasm linker writes names with every
// character but letters, digits, _ and . replaced by _
// ("github.com/ncruces/go-sqlite3.(*Conn).Exec" becomes
// "github.com_ncruces_go_sqlite3.__Conn_.Exec"), so each path is compared in
// that form, the longest match winning. The main package's functions are
// named "main.…" whatever its path: they are in "main". What matches none
// is Other.
func PackageOf(fn string, pkgs []string) string {
	mangled := make([]string, len(pkgs))
	for i, p := range pkgs {
		mangled[i] = LinkerName(p)
	}
	return packageOf(fn, pkgs, mangled)
}

func packageOf(fn string, pkgs, mangled []string) string {
	best := -1
	for i, q := range mangled {
		if len(fn) > len(q) && fn[len(q)] == '.' && strings.HasPrefix(fn, q) && (best < 0 || len(q) > len(mangled[best])) {
			best = i
		}
	}
	switch {
	case best >= 0:
		return pkgs[best]
	case strings.HasPrefix(fn, "main."):
		return "main"
	}
	return Other
}

// LinkerName is an import path as Go's wasm linker writes it in the name
// section (nameRegexp in cmd/link/internal/wasm: every rune but
// [A-Za-z0-9_.] becomes _).
func LinkerName(path string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return r
		}
		return '_'
	}, path)
}
