package sqlutil

import "testing"

func TestLeadingTrivia(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int // -1: len(s)
	}{
		{"", 0},
		{"SELECT 1", 0},
		{"  \t\r\n\fSELECT 1", 6},
		{"-- c;\nSELECT 1", 6},
		{"/* a\n; */ ;; -- x\n;SELECT 1", 19},
		{"-- no newline", -1},
		{"/* unterminated", -1},
		{" ; ; ", -1},
		{"'--' ;", 0},
	} {
		want := c.want
		if want < 0 {
			want = len(c.s)
		}
		if got := LeadingTrivia(c.s); got != want {
			t.Errorf("LeadingTrivia(%q) = %d, want %d", c.s, got, want)
		}
	}
	if got := SkipTrivia("a ; b", 1); got != 2 {
		t.Errorf("SkipTrivia stops at ';': got %d, want 2", got)
	}
}

func TestQuote(t *testing.T) {
	if got := Quote(`a"b`); got != `"a""b"` {
		t.Errorf("Quote = %s", got)
	}
}
