package doccheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDocLinks checks every relative link, #anchor and repository path
// written in code in the repository's Markdown: README.md, docs/*.md and
// the packages' READMEs.
func TestDocLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"README.md", "docs/ARCHITECTURE.md", "docs/browser-api.md"} {
		if !slices.Contains(files, want) {
			t.Fatalf("Files(%s) = %q: %s missing", root, files, want)
		}
	}
	problems, err := Check(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestCheckFindsBrokenReferences runs the checker on a small tree with one
// good and one broken reference of each kind.
func TestCheckFindsBrokenReferences(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pkg/code.go", "package pkg\n")
	write("pkg/sub/x.js", "")
	write("pkg/README.md", "`sub/x.js` `sub/gone.js` `pkg/code.go`\n")
	write("node_modules/dep/README.md", "[bad](nowhere.md)\n")
	write(".gitignore", "/dist/\nnode_modules/\n")
	write("pkg/.gitignore", "/build/\n*.out\n")
	write("docs/b.md", "# Page B\n\n## Set up: the `larder` CLI (v2)\n\n## Set up: the `larder` CLI (v2)\n")
	write("README.md", strings.Join([]string{
		"# Top",
		"[ok](docs/b.md) [ok](docs/b.md#set-up-the-larder-cli-v2) [ok](docs/b.md#set-up-the-larder-cli-v2-1)",
		"[ok](#top) [ok](https://example.com/x) [ok](pkg/) ![ok](pkg/code.go)",
		"`pkg/code.go` `dist/larder.js` `application/wasm` `a/b` `pkg/build/x.js` `pkg/node_modules` `pkg/x.out` `pkg/code.Func`",
		"[bad](docs/c.md)",
		"[bad](docs/b.md#nope)",
		"[bad](#nope)",
		"`pkg/gone.go`",
		"[bad](/docs/b.md)",
		"[bad](../outside.md)",
		"[bad]: docs/missing.md",
		"```",
		"[not a link](nowhere.md) `pkg/not-checked.go`",
		"```",
		"`[text](in-code.md)`",
	}, "\n"))
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"README.md", "docs/b.md", "pkg/README.md"}; !slices.Equal(files, want) {
		t.Errorf("Files = %q, want %q", files, want)
	}
	problems, err := Check(root, files)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docs/c.md", "docs/b.md#nope", "#nope", "pkg/gone.go", "/docs/b.md", "../outside.md", "docs/missing.md", "sub/gone.js"}
	var got, lines []string
	for _, p := range problems {
		got = append(got, p.Ref)
		lines = append(lines, p.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems found:\n%s\nwant the references %q", strings.Join(lines, "\n"), want)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Many tabs and upgrades":                                            "many-tabs-and-upgrades",
		"`larder migrate up`":                                               "larder-migrate-up",
		"Coming from goose, golang-migrate, dbmate or Alembic":              "coming-from-goose-golang-migrate-dbmate-or-alembic",
		"L006 made-not-null (error; warning when backfilled; incompatible)": "l006-made-not-null-error-warning-when-backfilled-incompatible",
		"[Link](x.md) text":                                                 "link-text",
		"`db backup`, `db restore`":                                         "db-backup-db-restore",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
