// Package doccheck finds broken references in the project's Markdown: a
// relative link whose file or #anchor does not exist, or a path written in
// code (`jsbridge/js/larder.js`) that is not in the repository. Its test
// runs it over README.md and docs/*.md, so `go test ./...` fails on a
// broken link.
package doccheck

import (
	"bufio"
	"fmt"
	"iter"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// A Problem is one broken reference.
type Problem struct {
	File string // the Markdown file, relative to the root
	Line int
	Ref  string // the link target or the path as written
	Why  string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Ref, p.Why)
}

var (
	// [text](target) and ![alt](target); target up to the first space or ')'.
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// [label]: target
	refDef   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$`)
	codeSpan = regexp.MustCompile("`([^`]+)`")
	heading  = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	// A repository path written in code: segments of file-name characters
	// joined by slashes, optionally ending in a slash.
	pathLike = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+/?$`)
	// A Go qualified identifier after a package path: migrations/sqlite.Store.
	goIdent = regexp.MustCompile(`/[a-z0-9_]+\.[A-Z][A-Za-z0-9_]*$`)
)

// Check reports every broken reference in the Markdown files (paths
// relative to root).
func Check(root string, files []string) ([]Problem, error) {
	anchors := map[string]map[string]bool{} // Markdown file (slash path from root) → its anchors
	var problems []Problem
	for _, f := range files {
		f = filepath.ToSlash(f)
		lines, err := readLines(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		for _, r := range refs(lines) {
			if p, ok := checkRef(root, f, r, anchors); !ok {
				problems = append(problems, p)
			}
		}
	}
	return problems, nil
}

type ref struct {
	line   int
	target string
	code   bool // a path written in code, not a link
}

// prose yields the lines of a Markdown file (index, line) that are not in
// a fenced code block, nor its fences.
func prose(lines []string) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		fence := ""
		for i, l := range lines {
			t := strings.TrimSpace(l)
			switch {
			case fence != "":
				if strings.HasPrefix(t, fence) {
					fence = ""
				}
			case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
				fence = t[:3]
			default:
				if !yield(i, l) {
					return
				}
			}
		}
	}
}

// refs lists the links and code paths of a Markdown file, skipping fenced
// code blocks (examples, not references).
func refs(lines []string) []ref {
	var out []ref
	for i, l := range prose(lines) {
		if m := refDef.FindStringSubmatch(l); m != nil {
			out = append(out, ref{line: i + 1, target: m[1]})
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(l, -1) {
			if pathLike.MatchString(m[1]) {
				out = append(out, ref{line: i + 1, target: m[1], code: true})
			}
		}
		// Links inside code spans are text, not links.
		noCode := codeSpan.ReplaceAllString(l, "``")
		for _, m := range inlineLink.FindAllStringSubmatch(noCode, -1) {
			out = append(out, ref{line: i + 1, target: m[1]})
		}
	}
	return out
}

func checkRef(root, from string, r ref, anchors map[string]map[string]bool) (Problem, bool) {
	p := Problem{File: from, Line: r.line, Ref: r.target}
	if r.code {
		return checkCodePath(root, p)
	}
	t := r.target
	if i := strings.Index(t, ":"); i > 0 && !strings.ContainsAny(t[:i], "/#.") {
		return p, true // a scheme: https:, mailto:, …
	}
	if strings.HasPrefix(t, "//") {
		return p, true
	}
	file, frag, _ := strings.Cut(t, "#")
	if i := strings.Index(file, "?"); i >= 0 {
		file = file[:i]
	}
	target := from
	if file != "" {
		if strings.HasPrefix(file, "/") {
			p.Why = "absolute path: write it relative to " + from
			return p, false
		}
		target = path.Clean(path.Join(path.Dir(from), file))
		if target == ".." || strings.HasPrefix(target, "../") {
			p.Why = "points outside the repository"
			return p, false
		}
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(target)))
		if err != nil {
			p.Why = "no such file or directory"
			return p, false
		}
		if fi.IsDir() && frag != "" {
			p.Why = "an #anchor on a directory"
			return p, false
		}
	}
	if frag == "" || !strings.HasSuffix(target, ".md") {
		return p, true
	}
	set, ok := anchors[target]
	if !ok {
		lines, err := readLines(filepath.Join(root, filepath.FromSlash(target)))
		if err != nil {
			p.Why = err.Error()
			return p, false
		}
		set = Anchors(lines)
		anchors[target] = set
	}
	if !set[frag] {
		p.Why = fmt.Sprintf("no heading with anchor #%s in %s", frag, target)
		return p, false
	}
	return p, true
}

// checkCodePath checks a path written in code when its first segment is a
// directory of the repository, at the root or beside the Markdown file (so
// `jsbridge/js/larder.js` is checked, and `application/wasm` or
// `larder/<name>/db` are not), and it is not a file that .gitignore leaves
// out (`dist/larder.js`, a build output).
func checkCodePath(root string, p Problem) (Problem, bool) {
	t := strings.TrimSuffix(p.Ref, "/")
	first, _, _ := strings.Cut(t, "/")
	if first == "." || first == ".." || goIdent.MatchString(t) {
		return p, true
	}
	checked := false
	for _, base := range []string{".", path.Dir(p.File)} {
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(base), first)); err != nil || !fi.IsDir() {
			continue
		}
		full := path.Join(base, t)
		if ignored(root, full) {
			return p, true
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(full))); err == nil {
			return p, true
		}
		checked = true
	}
	if !checked {
		return p, true
	}
	p.Why = "no such file or directory in the repository"
	return p, false
}

// Files lists the Markdown files of the repository at root, as slash
// paths from root: every *.md outside .git and what .gitignore leaves out
// (node_modules, dist).
func Files(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" || ignored(root, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".md") && !ignored(root, rel) {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// Anchors returns the anchors GitHub gives the headings of a Markdown
// file: the heading's text, lower-cased, without punctuation, spaces as
// hyphens; a repeated one gets -1, -2, ….
func Anchors(lines []string) map[string]bool {
	set := map[string]bool{}
	seen := map[string]int{}
	for _, l := range prose(lines) {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := Slug(m[2])
		if n := seen[s]; n > 0 {
			set[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			set[s] = true
		}
		seen[s]++
	}
	return set
}

var linkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// Slug is GitHub's anchor for a heading's text.
func Slug(text string) string {
	text = linkText.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ignored reports whether a .gitignore of the repository (at the root or
// in a directory on the way) leaves path p out. It understands the forms
// the project uses: "name", "/name", "dir/", "*.ext" and "/a/b/".
func ignored(root, p string) bool {
	segs := strings.Split(p, "/")
	for d := 0; d < len(segs); d++ {
		dir := strings.Join(segs[:d], "/")
		lines, err := readLines(filepath.Join(root, filepath.FromSlash(dir), ".gitignore"))
		if err != nil {
			continue
		}
		rest := segs[d:]
		for _, pat := range lines {
			pat = strings.TrimSpace(pat)
			if pat == "" || strings.HasPrefix(pat, "#") || strings.HasPrefix(pat, "!") {
				continue
			}
			pat = strings.TrimSuffix(pat, "/")
			if strings.HasPrefix(pat, "/") || strings.Contains(pat, "/") {
				ps := strings.Split(strings.TrimPrefix(pat, "/"), "/")
				if len(ps) <= len(rest) && matchAll(ps, rest[:len(ps)]) {
					return true
				}
				continue
			}
			for _, s := range rest {
				if ok, _ := path.Match(pat, s); ok {
					return true
				}
			}
		}
	}
	return false
}

func matchAll(pats, segs []string) bool {
	for i := range pats {
		if ok, _ := path.Match(pats[i], segs[i]); !ok {
			return false
		}
	}
	return true
}

func readLines(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
