package sqlite

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// setsForeignKeys agrees with the regular expression it replaces on
// statements made of the pragma's pieces (ASCII: the regexp also folds
// the Kelvin sign into k, which SQLite does not).
func TestSetsForeignKeysAgreesWithRegexp(t *testing.T) {
	re := regexp.MustCompile(`(?is)^PRAGMA\s+(?:(?:"?main"?|"?temp"?)\s*\.\s*)?"?foreign_keys"?\s*(?:=|\()\s*(.*?)\s*\)?\s*;?$`)
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(list ...string) string { return list[r.IntN(len(list))] }
	space := func() string { return pick("", "", " ", "  ", "\t", "\n", "\v", "\r\n", "\f") }
	stmts := []string{"", "PRAGMA foreign_keys", "PRAGMA foreign_keys=ON", "pragma main.foreign_keys = off;",
		`PRAGMA "main"."foreign_keys"(1)`, "PRAGMA temp . foreign_keys = 'on' ;", "PRAGMA foreign_keys=;", "PRAGMA foreign_keys=(",
		"PRAGMA foreign_keys = ) ;", "PRAGMA foreign_keys = 1 ; ", "PRAGMAforeign_keys=1", "PRAGMA foreign_key_check", "PRAGMA main.foreign_keys"}
	for range 300000 {
		var b strings.Builder
		b.WriteString(pick("PRAGMA", "pragma", "PraGma", "PRAGM", "xPRAGMA"))
		b.WriteString(pick(" ", "  ", "\t", "\n", "", "\v"))
		if r.IntN(2) == 0 {
			b.WriteString(pick("", `"`) + pick("main", "MAIN", "temp", "Temp", "mai", "other") + pick("", `"`) + space() + pick(".", "", "..") + space())
		}
		b.WriteString(pick("", `"`) + pick("foreign_keys", "FOREIGN_KEYS", "Foreign_Keys", "foreign_key", "foreign_keys_x") + pick("", `"`))
		b.WriteString(space() + pick("=", "(", "", "==", ":"))
		for range r.IntN(5) {
			b.WriteString(pick(space(), "ON", "off", "1", "0", "'on'", `"off"`, ")", "(", ";", "x", "))", ";;", "-- c", "\n"))
		}
		b.WriteString(pick("", ";", ")", ");", " ) ; ", ";\n", " "))
		stmts = append(stmts, b.String())
	}
	matched := 0
	for _, s := range stmts {
		v, ok := setsForeignKeys(s)
		m := re.FindStringSubmatch(s)
		if ok != (m != nil) || ok && v != strings.Trim(m[1], `'"`) {
			t.Fatalf("setsForeignKeys(%q) = %q, %v; regexp %q", s, v, ok, m)
		}
		if ok {
			matched++
		}
	}
	if matched < len(stmts)/50 {
		t.Fatalf("only %d of %d statements set foreign_keys: the corpus does not reach the matcher", matched, len(stmts))
	}
}
