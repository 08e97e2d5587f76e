//go:build !js

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// realImage returns a real SQLite database file of several pages.
func realImage(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	conn, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
		INSERT INTO t (v) SELECT printf('row %d', i) FROM n;`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckSQLiteImage(t *testing.T) {
	good := realImage(t)
	info, err := checkSQLiteImage(good)
	if err != nil || info.PageSize != 4096 || info.Pages != len(good)/4096 || info.Pages < 3 {
		t.Fatalf("real database: %+v, %v", info, err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":            nil,
		"text":             []byte(strings.Repeat("hello world\n", 100)),
		"header only":      good[:100],
		"wrong magic":      mut(func(b []byte) []byte { b[15] = ' '; return b }),
		"page size 1000":   mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[16:], 1000); return b }),
		"page size 256":    mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[16:], 256); return b }),
		"format version 3": mut(func(b []byte) []byte { b[18] = 3; return b }),
		"payload fraction": mut(func(b []byte) []byte { b[21] = 65; return b }),
		"partial page":     good[:len(good)-100],
		"missing pages":    good[:len(good)-4096],
	} {
		if _, err := checkSQLiteImage(b); !errors.Is(err, errNotSQLite) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	// Page size 1 means 65536; a WAL-mode header (versions 2/2) is fine.
	big := make([]byte, 65536)
	copy(big, good[:100])
	binary.BigEndian.PutUint16(big[16:], 1)
	big[18], big[19] = 2, 2
	binary.BigEndian.PutUint32(big[28:], 1)
	if info, err := checkSQLiteImage(big); err != nil || info.PageSize != 65536 {
		t.Errorf("64 KiB pages: %+v, %v", info, err)
	}
}

func TestCheckBackupName(t *testing.T) {
	for _, ok := range []string{"a", "notes-2026-11-21", "app.v2_backup", strings.Repeat("x", 128)} {
		if err := checkBackupName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".hidden", "-x", "a/b", "a..b", "a b", "é", strings.Repeat("x", 129)} {
		if err := checkBackupName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestWorkerRefusesBadBackupsAndStoresNothing(t *testing.T) {
	state := t.TempDir()
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), state, 1, "BACKUP_MAX_BYTES=1048576")
	good := realImage(t)
	notSQLite := []byte(strings.Repeat("this is not a database\n", 200))
	badPage := bytes.Clone(good)
	binary.BigEndian.PutUint16(badPage[16:], 1000)
	for _, c := range []struct {
		name, path string
		body       []byte
		status     int
		code       string
	}{
		{"text", "/api/backup/b1", notSQLite, 400, "LARDER_INVALID_DATABASE"},
		{"empty", "/api/backup/b1", nil, 400, "LARDER_INVALID_DATABASE"},
		{"bad page size", "/api/backup/b1", badPage, 400, "LARDER_INVALID_DATABASE"},
		{"truncated", "/api/backup/b1", good[:len(good)-1000], 400, "LARDER_INVALID_DATABASE"},
		{"over the limit", "/api/backup/b1", append(bytes.Clone(good), make([]byte, 1<<20)...), 413, "LARDER_TOO_LARGE"},
		{"bad name", "/api/backup/.hidden", good, 400, "LARDER_INVALID_NAME"},
		{"name with a space", "/api/backup/a%20b", good, 400, "LARDER_INVALID_NAME"},
		{"escaping name", "/api/backup/..%2F..%2Fu%2Fx", good, 400, "LARDER_INVALID_NAME"},
		{"name with a slash", "/api/backup/a%2Fb", good, 400, "LARDER_INVALID_NAME"},
		{"name with NUL", "/api/backup/a%00b", good, 400, "LARDER_INVALID_NAME"},
		{"name with a newline", "/api/backup/a%0Ab", good, 400, "LARDER_INVALID_NAME"},
		{"dot dot", "/api/backup/a..b", good, 400, "LARDER_INVALID_NAME"},
		{"name too long", "/api/backup/" + strings.Repeat("n", 129), good, 400, "LARDER_INVALID_NAME"},
	} {
		r := w.do(t, "PUT", c.path, "", c.body, "If-None-Match", "*")
		var e errorBody
		r.JSON(t, &e)
		if r.Status != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	r := w.do(t, "GET", "/api/backups", "", nil)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Errorf("backups after refused uploads: %d %s", r.Status, r.Body)
	}
	if r := w.do(t, "GET", "/api/backup/b1", "", nil); r.Status != 404 {
		t.Errorf("GET of a refused backup: %d %s", r.Status, r.Body)
	}
	w.stop(t)
	// Nothing reached the bucket's storage either.
	var blobs []string
	filepath.WalkDir(filepath.Join(state, "r2"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "blobs") {
			blobs = append(blobs, p)
		}
		return nil
	})
	if len(blobs) != 0 {
		t.Errorf("refused uploads left blobs in R2: %q", blobs)
	}
}
