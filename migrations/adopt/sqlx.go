package adopt

import (
	"bytes"
	"crypto/sha512"
	"fmt"

	"github.com/larderdb/larder/migrations"
)

// checkSqlx compares the checksum sqlx recorded (SHA-384 of the file it
// ran) with m's file, as it is and with LF line endings, and returns a
// warning when neither matches: the file may have been edited after sqlx
// applied it. Larder records its own checksum of the file as it is now.
func checkSqlx(m *migrations.Migration, recorded []byte, read func(string) ([]byte, error)) string {
	if m.Source == "" {
		return ""
	}
	b, err := read(m.Source)
	if err != nil {
		return fmt.Sprintf("could not read %s to compare sqlx's checksum: %v", m.Source, err)
	}
	for _, variant := range [][]byte{b, bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))} {
		if sum := sha512.Sum384(variant); bytes.Equal(sum[:], recorded) {
			return ""
		}
	}
	return fmt.Sprintf("%s differs from the file sqlx applied as version %d (its SHA-384 checksum does not match): "+
		"the file was probably edited afterwards; check that the database has what the file says", m.Source, m.Version)
}
