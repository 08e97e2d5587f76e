package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// sqliteMagic is the first 16 bytes of every SQLite database file
// (https://sqlite.org/fileformat2.html#the_database_header).
const sqliteMagic = "SQLite format 3\x00"

// errNotSQLite wraps every reason checkSQLiteImage refuses an upload.
var errNotSQLite = errors.New("not an SQLite database")

// imageInfo is what the header says about a database image.
type imageInfo struct {
	PageSize int
	Pages    int
}

// checkSQLiteImage checks that b looks like a whole SQLite database file:
// the magic string, a page size that is a power of two from 512 to 65536,
// the fixed payload fractions, a length that is a whole number of pages and
// not shorter than the page count in the header says (when that count is
// valid). It does not read the b-trees: a restore opens the file with
// SQLite, which does.
func checkSQLiteImage(b []byte) (imageInfo, error) {
	var info imageInfo
	if len(b) < 100 {
		return info, fmt.Errorf("%w: %d bytes, shorter than the 100-byte SQLite header", errNotSQLite, len(b))
	}
	if string(b[:16]) != sqliteMagic {
		return info, fmt.Errorf("%w: the file does not start with %q", errNotSQLite, "SQLite format 3\\0")
	}
	ps := int(binary.BigEndian.Uint16(b[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return info, fmt.Errorf("%w: page size %d is not a power of two from 512 to 65536", errNotSQLite, ps)
	}
	if w, r := b[18], b[19]; w < 1 || w > 2 || r < 1 || r > 2 {
		return info, fmt.Errorf("%w: file format versions %d/%d (want 1 or 2)", errNotSQLite, w, r)
	}
	if b[21] != 64 || b[22] != 32 || b[23] != 32 {
		return info, fmt.Errorf("%w: payload fractions %d/%d/%d (want 64/32/32)", errNotSQLite, b[21], b[22], b[23])
	}
	if ps-int(b[20]) < 480 {
		return info, fmt.Errorf("%w: %d reserved bytes leave less than 480 usable bytes per page", errNotSQLite, b[20])
	}
	if len(b)%ps != 0 {
		return info, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte pages (truncated?)", errNotSQLite, len(b), ps)
	}
	info.PageSize, info.Pages = ps, len(b)/ps
	// The page count at offset 28 is valid when non-zero and the change
	// counter (24) equals the version-valid-for number (92).
	if n := int(binary.BigEndian.Uint32(b[28:32])); n != 0 && string(b[24:28]) == string(b[92:96]) && n > info.Pages {
		return info, fmt.Errorf("%w: the header counts %d pages but the file has %d (truncated?)", errNotSQLite, n, info.Pages)
	}
	return info, nil
}

var backupNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// checkBackupName accepts 1 to 128 letters, digits, '.', '_' and '-',
// starting with a letter or digit, and no "..": the name is the R2 key.
func checkBackupName(name string) error {
	if !backupNameRE.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("invalid backup name %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}
