package syncer

import (
	"strconv"
	"strings"
)

// numberSub rewrites each :sub parameter of a where rule to ?n, leaving
// string literals, quoted identifiers and comments alone. Numbered
// parameters bind the same way on SQLite and on D1, which does not take
// named ones.
func numberSub(where string, n int) string {
	var b strings.Builder
	repl := "?" + strconv.Itoa(n)
	for i := 0; i < len(where); {
		c := where[i]
		end := -1
		switch {
		case c == '\'' || c == '"' || c == '`':
			end = closing(where, i+1, string(c))
		case c == '[':
			end = closing(where, i+1, "]")
		case strings.HasPrefix(where[i:], "--"):
			end = closing(where, i+2, "\n")
		case strings.HasPrefix(where[i:], "/*"):
			end = closing(where, i+2, "*/")
		case strings.HasPrefix(where[i:], ":sub") && (i+4 == len(where) || !isIdentChar(where[i+4])):
			b.WriteString(repl)
			i += 4
			continue
		}
		if end < 0 {
			b.WriteByte(c)
			i++
			continue
		}
		b.WriteString(where[i:end])
		i = end
	}
	return b.String()
}

// closing returns the index just past the first delim at or after from, or
// len(s) when there is none.
func closing(s string, from int, delim string) int {
	if k := strings.Index(s[from:], delim); k >= 0 {
		return from + k + len(delim)
	}
	return len(s)
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}
