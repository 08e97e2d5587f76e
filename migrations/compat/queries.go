package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A Query is one named statement of a queries file.
type Query struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
	File string `json:"file,omitempty"`
	Line int    `json:"line"` // 1-based line of the "-- name:" comment
}

// ParseQueries reads a queries file: each query starts with a
// "-- name: NAME" comment (sqlc style; words after the name, such as
// ":one", are ignored) followed by one SQL statement. Comments and blank
// lines before the first name are allowed; statements are not.
func ParseQueries(file string, content []byte) ([]Query, error) {
	var out []Query
	var cur *Query
	var body []string
	flush := func() error {
		if cur == nil {
			return nil
		}
		cur.SQL = strings.TrimSpace(strings.Join(body, "\n"))
		if stripComments(cur.SQL) == "" {
			return fmt.Errorf("%s:%d: query %s has no statement", file, cur.Line, cur.Name)
		}
		out = append(out, *cur)
		return nil
	}
	seen := map[string]int{}
	for i, l := range strings.Split(strings.ReplaceAll(string(content), "\r\n", "\n"), "\n") {
		if name, ok := nameComment(l); ok {
			if err := flush(); err != nil {
				return nil, err
			}
			if name == "" {
				return nil, fmt.Errorf("%s:%d: -- name: without a name", file, i+1)
			}
			if prev, dup := seen[strings.ToLower(name)]; dup {
				return nil, fmt.Errorf("%s:%d: query %s is also named at line %d", file, i+1, name, prev)
			}
			seen[strings.ToLower(name)] = i + 1
			cur, body = &Query{Name: name, File: file, Line: i + 1}, nil
			continue
		}
		if cur == nil {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				return nil, fmt.Errorf("%s:%d: statement before the first -- name: comment", file, i+1)
			}
			continue
		}
		body = append(body, l)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no queries (want -- name: NAME before each statement)", file)
	}
	return out, nil
}

// LoadQueries reads and parses a queries file.
func LoadQueries(path string) ([]Query, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compat: %w", err)
	}
	qs, err := ParseQueries(filepath.Base(path), content)
	if err != nil {
		return nil, fmt.Errorf("compat: %w", err)
	}
	return qs, nil
}

func nameComment(line string) (string, bool) {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "--") {
		return "", false
	}
	s = strings.TrimSpace(s[2:])
	if !strings.HasPrefix(s, "name:") {
		return "", false
	}
	f := strings.Fields(s[len("name:"):])
	if len(f) == 0 {
		return "", true
	}
	return f[0], true
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			b.WriteString(t)
		}
	}
	return b.String()
}
