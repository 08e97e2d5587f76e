package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocLinks checks every relative link, #anchor and repository path
// written in code in README.md and docs/*.md.
func TestDocLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md found")
	}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
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
	problems, err := Check(root, []string{"README.md"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.Ref)
	}
	want := []string{"docs/c.md", "docs/b.md#nope", "#nope", "pkg/gone.go", "/docs/b.md", "../outside.md", "docs/missing.md"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problems found:\n%s\nwant the references %q", strings.Join(strings.Fields(strings.Join(func() []string {
			var s []string
			for _, p := range problems {
				s = append(s, p.String()+"\n")
			}
			return s
		}(), "")), " "), want)
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
