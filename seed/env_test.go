package seed

import (
	"regexp"
	"testing"
)

// validEnv agrees with the regular expression it replaces, on every
// string of up to three characters from a small alphabet.
func TestValidEnvAgreesWithRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	alphabet := []string{"a", "Z", "0", "_", ".", "-", "/", " ", "é", "\n"}
	words := []string{""}
	for range 3 {
		for _, w := range words {
			for _, c := range alphabet {
				words = append(words, w+c)
			}
		}
	}
	for _, w := range append(words, "staging", "prod-eu.1", "../x", ".hidden") {
		if validEnv(w) != re.MatchString(w) {
			t.Fatalf("validEnv(%q) = %v; regexp %v", w, validEnv(w), re.MatchString(w))
		}
	}
}
