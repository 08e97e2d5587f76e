//go:build !js

package main

// Native tests of the backup checks; the routes run in workerd in
// backup_worker_test.go and backup_browser_test.go.

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
