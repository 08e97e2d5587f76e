package migrations

import (
	"strconv"
	"strings"
)

// The file names Load accepts. The name part keeps hyphens and dots as
// written (sqlx, dbmate; pocket-id has "20240813211251_passkey_backup_flags..up.sql",
// which golang-migrate reads as version 20240813211251, name
// "passkey_backup_flags."); golang-migrate and sqlx pairs end in .up.sql /
// .down.sql; refinery and Flyway write V<version>__<name>.sql.
//
// They are matched by hand rather than with package regexp, which would add
// about 0.5 MB to larder.wasm for these and two other patterns. As regular
// expressions (names_test.go checks the matchers against them):
//
//	^([0-9]+)_([A-Za-z0-9_-][A-Za-z0-9_.-]*?)(\.up|\.down)?\.sql$   matchFileName
//	^V([0-9]+)__([A-Za-z0-9_-]+)\.sql$                            matchRefineryName
//	^[UuRr][0-9]*__                                               otherVersion

// matchFileName takes NNNN_name.sql, NNNN_name.up.sql or
// NNNN_name.down.sql apart: the name is the shortest that leaves one of
// those endings.
func matchFileName(file string) (version, name, part string, ok bool) {
	version, rest, ok := digitsThen(file, "_")
	if !ok {
		return "", "", "", false
	}
	for _, end := range []struct{ suffix, part string }{{".down.sql", "down"}, {".up.sql", "up"}, {".sql", ""}} {
		n, found := strings.CutSuffix(rest, end.suffix)
		if found && n != "" && n[0] != '.' && allNameChars(n, true) {
			return version, n, end.part, true
		}
	}
	return "", "", "", false
}

// matchRefineryName takes V<version>__<name>.sql apart.
func matchRefineryName(file string) (version, name string, ok bool) {
	rest, found := strings.CutPrefix(file, "V")
	if !found {
		return "", "", false
	}
	version, rest, ok = digitsThen(rest, "__")
	if !ok {
		return "", "", false
	}
	name, found = strings.CutSuffix(rest, ".sql")
	if !found || name == "" || !allNameChars(name, false) {
		return "", "", false
	}
	return version, name, true
}

// otherVersion reports a Flyway or refinery U or R migration name.
func otherVersion(file string) bool {
	if file == "" || strings.IndexByte("UuRr", file[0]) < 0 {
		return false
	}
	_, _, ok := digitsThen("0"+file[1:], "__")
	return ok
}

// digitsThen splits s into the ASCII digits it starts with (at least one)
// and what follows sep after them.
func digitsThen(s, sep string) (digits, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	rest, found := strings.CutPrefix(s[i:], sep)
	if i == 0 || !found {
		return "", "", false
	}
	return s[:i], rest, true
}

// allNameChars reports whether s has only A-Z a-z 0-9 _ - (and . when dot).
func allNameChars(s string, dot bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || dot && c == '.') {
			return false
		}
	}
	return true
}

const fileNameWant = "want NNNN_name.sql (digits, underscore, letters, digits, _, - or .), " +
	"NNNN_name.up.sql with NNNN_name.down.sql, or V<N>__name.sql"

// fileName is a migration file name taken apart.
type fileName struct {
	version int64
	name    string
	part    string // "" for a whole migration, "up" or "down" for one file of a pair
}

// stem is the pair's common name, "3_add_tags" for 3_add_tags.up.sql.
func (f fileName) stem(file string) string {
	s := file[:len(file)-len(".sql")]
	if f.part != "" {
		s = s[:len(s)-len(f.part)-1]
	}
	return s
}

func parseFileName(file string) (fileName, error) {
	version, name, part, ok := matchFileName(file)
	if !ok {
		version, name, ok = matchRefineryName(file)
	}
	if !ok {
		detail := fileNameWant
		if otherVersion(file) {
			detail = "U (undo or unversioned) and R (repeatable) migrations of Flyway and refinery are not supported; " + detail
		}
		return fileName{}, &FileError{File: file, Err: ErrBadFileName, Detail: detail}
	}
	v, err := strconv.ParseInt(version, 10, 64)
	if err != nil || v <= 0 {
		return fileName{}, &FileError{File: file, Err: ErrBadFileName, Detail: "version must be a positive 64-bit integer"}
	}
	return fileName{version: v, name: name, part: part}, nil
}

// ParseFileName splits a migration file name into its version and name:
// "0003_add_tags.sql", "20220101000000_add-users.sql", "3_add_tags.up.sql"
// and "V3__add_tags.sql" all give 3 (or the timestamp) and the name as
// written.
func ParseFileName(name string) (int64, string, error) {
	f, err := parseFileName(name)
	return f.version, f.name, err
}
