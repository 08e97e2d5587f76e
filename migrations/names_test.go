package migrations

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// randomNames builds n names from tokens, seeded: file names that are
// close to valid, so that the matchers meet every branch.
func randomNames(n int, tokens []string) []string {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	out := make([]string, 0, n)
	for i := range n {
		var b strings.Builder
		if i%2 == 0 { // shaped like a name: version, separator, name, ending
			b.WriteString(pick([]string{"1", "007", "20240813211251", "V3", "V", "U2", "r", "x", ""}))
			b.WriteString(pick([]string{"_", "__", "___", "", "-"}))
			for range r.IntN(4) {
				b.WriteString(pick(tokens))
			}
			b.WriteString(pick([]string{".sql", ".up.sql", ".down.sql", ".go", "_test.go", ".SQL", "", ".sql ", ".up.sql.bak"}))
		} else {
			for range 1 + r.IntN(8) {
				b.WriteString(pick(tokens))
			}
		}
		out = append(out, b.String())
	}
	return out
}

var nameTokens = []string{"0", "1", "2", "42", "_", "__", "V", "v", "U", "u", "R", "r", ".", "..", "up", "down",
	"sql", ".sql", ".up", ".down", ".up.sql", ".down.sql", "a", "Z", "-", "go", ".go", "_test.go", " ", "é", "/", "\n", "$"}

// The hand-written matchers of names.go and load.go agree with the regular
// expressions they replace.
func TestNameMatchersAgreeWithRegexps(t *testing.T) {
	fileRE := regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_-][A-Za-z0-9_.-]*?)(\.up|\.down)?\.sql$`)
	refineryRE := regexp.MustCompile(`^V([0-9]+)__([A-Za-z0-9_-]+)\.sql$`)
	otherRE := regexp.MustCompile(`^[UuRr][0-9]*__`)
	goRE := regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_.-]+)\.go$`)
	names := append(randomNames(300000, nameTokens),
		"", "1_a.sql", "1_a.up.sql", "1_a.down.sql", "1_.up.sql", "1_.sql", "1_a..up.sql", "1_x.down.up.sql",
		"20240813211251_passkey_backup_flags..up.sql", "V1__a__b.sql", "V1___x.sql", "V__a.sql", "U1__a.sql", "R__x.sql",
		"u__", "1_a.b.go", "1_.go", "1_x_test.go", "01_a-b.sql", "1_-.sql", "1_.a.sql")
	matched := 0
	for _, s := range names {
		v, n, part, ok := matchFileName(s)
		m := fileRE.FindStringSubmatch(s)
		if ok != (m != nil) || ok && (v != m[1] || n != m[2] || part != strings.TrimPrefix(m[3], ".")) {
			t.Fatalf("matchFileName(%q) = %q %q %q %v; regexp %q", s, v, n, part, ok, m)
		}
		if ok {
			matched++
		}
		v, n, ok = matchRefineryName(s)
		m = refineryRE.FindStringSubmatch(s)
		if ok != (m != nil) || ok && (v != m[1] || n != m[2]) {
			t.Fatalf("matchRefineryName(%q) = %q %q %v; regexp %q", s, v, n, ok, m)
		}
		if otherVersion(s) != otherRE.MatchString(s) {
			t.Fatalf("otherVersion(%q) = %v; regexp %v", s, otherVersion(s), otherRE.MatchString(s))
		}
		v, n, ok = matchGoFile(s)
		m = goRE.FindStringSubmatch(s)
		if ok != (m != nil) || ok && (v != m[1] || n != m[2]) {
			t.Fatalf("matchGoFile(%q) = %q %q %v; regexp %q", s, v, n, ok, m)
		}
	}
	if matched < len(names)/100 {
		t.Fatalf("only %d of %d names were migration file names: the corpus does not reach the matchers", matched, len(names))
	}
}
