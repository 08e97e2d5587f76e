// Package npm holds the template of the @larderdb/larder package (make
// package) and its adapters; this test keeps larder.d.ts honest.
package npm

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	codeRe     = regexp.MustCompile(`^LARDER_[A-Z_]+$`)
	jsStringRe = regexp.MustCompile(`["'` + "`" + `](LARDER_[A-Z_]+)["'` + "`" + `]`)
	declaredRe = regexp.MustCompile(`"(LARDER_[A-Z_]+)"`)
)

// TestDeclaredErrorCodes compares the LarderCode union of larder.d.ts with
// the codes the library can reject with: the string literals of the Go
// packages built into larder.wasm and into the edge Worker (whose codes
// backup() and restore() pass on), and of the JS modules of jsbridge/js
// (larder.js, larder-worker.js and the modules they import).
// Environment variable names (os.Getenv arguments) are not codes.
func TestDeclaredErrorCodes(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{} // code → where first seen
	for _, main := range []string{"./wasm", "./edge"} {
		for _, dir := range modulePackages(t, root, main) {
			goCodes(t, dir, found)
		}
	}
	var js []string
	err = filepath.WalkDir(filepath.Join(root, "jsbridge", "js"), func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "test" || d.Name() == "node_modules"):
			return filepath.SkipDir // tests and their tools are not the library
		case !d.IsDir() && strings.HasSuffix(p, ".js"):
			js = append(js, p)
		}
		return nil
	})
	if err != nil || len(js) == 0 {
		t.Fatalf("no JS modules in jsbridge/js (%v)", err)
	}
	for _, f := range js {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range jsStringRe.FindAllSubmatch(b, -1) {
			if _, ok := found[string(m[1])]; !ok {
				found[string(m[1])] = rel(root, f)
			}
		}
	}

	dts, err := os.ReadFile(filepath.Join(root, "jsbridge", "js", "larder.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	union := unionOf(t, string(dts), "LarderCode")
	declared := map[string]bool{}
	for _, m := range declaredRe.FindAllStringSubmatch(union, -1) {
		declared[m[1]] = true
	}
	if len(declared) == 0 {
		t.Fatal("larder.d.ts: LarderCode declares no code")
	}
	for _, c := range sortedKeys(found) {
		if !declared[c] {
			t.Errorf("%s throws %s, which larder.d.ts's LarderCode does not declare", found[c], c)
		}
	}
	for _, c := range sortedKeys(declared) {
		if _, ok := found[c]; !ok {
			t.Errorf("larder.d.ts's LarderCode declares %s, which no source throws", c)
		}
	}
	t.Logf("%d codes declared, %d found in the sources", len(declared), len(found))
}

// modulePackages lists the directories of this module's packages that the
// js/wasm build of main links.
func modulePackages(t *testing.T, root, main string) []string {
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,Module", main)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", main, err)
	}
	var dirs []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			Dir    string
			Module *struct{ Path string }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module != nil && p.Module.Path == "github.com/larderdb/larder" {
			dirs = append(dirs, p.Dir)
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("go list -deps %s: no package of this module", main)
	}
	return dirs
}

// goCodes adds the LARDER_* string literals of dir's non-test Go files
// (every build tag: a code of the js build sits in _js.go files).
func goCodes(t *testing.T, dir string, found map[string]string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		env := map[*ast.BasicLit]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv") {
					for _, a := range call.Args {
						if lit, ok := a.(*ast.BasicLit); ok {
							env[lit] = true
						}
					}
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || env[lit] {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && codeRe.MatchString(s) {
				if _, ok := found[s]; !ok {
					found[s] = relRoot(f)
				}
			}
			return true
		})
	}
}

// unionOf returns the text of `export type name = … ;` in dts.
func unionOf(t *testing.T, dts, name string) string {
	start := strings.Index(dts, "export type "+name+" =")
	if start < 0 {
		t.Fatalf("larder.d.ts: no `export type %s =`", name)
	}
	end := strings.Index(dts[start:], ";")
	if end < 0 {
		t.Fatalf("larder.d.ts: %s has no end", name)
	}
	return dts[start : start+end]
}

func relRoot(f string) string {
	root, _ := filepath.Abs("..")
	return rel(root, f)
}

func rel(root, f string) string {
	if r, err := filepath.Rel(root, f); err == nil {
		return filepath.ToSlash(r)
	}
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
