package migrations

import (
	"fmt"
	"unicode/utf8"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// CheckText refuses what is not UTF-8 text: a NUL byte (SQLite would stop
// reading the statement there while the checksum covers the whole file) or
// an invalid UTF-8 sequence (a bundle or a browser would rewrite it to
// U+FFFD, so the SQL would differ between runners). The error is a
// *FileError naming file and the 1-based line, counted from firstLine, and
// the byte column. Native loading, bundles, the browser and the edge Worker
// all check their migration and seed text with it, so each refuses the same
// input with the same words.
func CheckText(file string, text []byte, firstLine int) error {
	line, col := max(firstLine, 1), 1
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				return &FileError{File: file, Line: line, Err: ErrBadFile,
					Detail: fmt.Sprintf("NUL byte at column %d: not a text file", col)}
			}
			if c == '\n' {
				line, col = line+1, 0
			}
			i, col = i+1, col+1
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n <= 1 {
			return &FileError{File: file, Line: line, Err: ErrBadFile,
				Detail: fmt.Sprintf("invalid UTF-8 (byte 0x%02X at column %d): save the file as UTF-8", c, col)}
		}
		i, col = i+n, col+n
	}
	return nil
}

// checkString is CheckText on a string.
func checkString(file, text string, firstLine int) error {
	if utf8.ValidString(text) && !containsNUL(text) {
		return nil
	}
	return CheckText(file, []byte(text), firstLine)
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// HasStatements reports whether part holds anything but whitespace,
// comments and semicolons: a part without is a valid no-op (a
// comment-only file), and splitting it gives no statements.
func HasStatements(part string) bool {
	for i := sqlutil.SkipTrivia(part, 0); i < len(part); i = sqlutil.SkipTrivia(part, i+1) {
		if part[i] != ';' {
			return true
		}
	}
	return false
}
