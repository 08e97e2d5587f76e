package migrations

import (
	"regexp"
	"strconv"
)

// The file names Load accepts. The name part keeps hyphens and dots as
// written (sqlx, dbmate; pocket-id has "20240813211251_passkey_backup_flags..up.sql",
// which golang-migrate reads as version 20240813211251, name
// "passkey_backup_flags."); golang-migrate and sqlx pairs end in .up.sql /
// .down.sql; refinery and Flyway write V<version>__<name>.sql.
var (
	fileNameRE     = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_-][A-Za-z0-9_.-]*?)(\.up|\.down)?\.sql$`)
	refineryNameRE = regexp.MustCompile(`^V([0-9]+)__([A-Za-z0-9_-]+)\.sql$`)
	otherVersionRE = regexp.MustCompile(`^[UuRr][0-9]*__`)
)

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
	m := fileNameRE.FindStringSubmatch(file)
	if m == nil {
		m = refineryNameRE.FindStringSubmatch(file)
	}
	if m == nil {
		detail := fileNameWant
		if otherVersionRE.MatchString(file) {
			detail = "U (undo or unversioned) and R (repeatable) migrations of Flyway and refinery are not supported; " + detail
		}
		return fileName{}, &FileError{File: file, Err: ErrBadFileName, Detail: detail}
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v <= 0 {
		return fileName{}, &FileError{File: file, Err: ErrBadFileName, Detail: "version must be a positive 64-bit integer"}
	}
	f := fileName{version: v, name: m[2]}
	if len(m) > 3 && m[3] != "" {
		f.part = m[3][1:]
	}
	return f, nil
}

// ParseFileName splits a migration file name into its version and name:
// "0003_add_tags.sql", "20220101000000_add-users.sql", "3_add_tags.up.sql"
// and "V3__add_tags.sql" all give 3 (or the timestamp) and the name as
// written.
func ParseFileName(name string) (int64, string, error) {
	f, err := parseFileName(name)
	return f.version, f.name, err
}
