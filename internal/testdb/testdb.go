// Package testdb holds the helpers that the tests of Larder's native
// packages share: migration and seed files written to disk, SQLite
// connections on temporary databases closed when the test ends, and
// queries whose answer a test compares.
package testdb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// WriteFiles writes files (path relative to dir, or absolute with dir "")
// and creates their directories.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Dir writes files into a new temporary directory and returns its path.
func Dir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	WriteFiles(t, dir, files)
	return dir
}

// Open opens the database at path with sqlite.Open (creating it) and closes
// it when the test ends.
func Open(t testing.TB, path string) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Parse is migrations.Parse that fails the test on error.
func Parse(t testing.TB, name, body string) *migrations.Migration {
	t.Helper()
	m, err := migrations.Parse(name, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Int returns the first column of the first row of q.
func Int(t testing.TB, conn *sqlite3.Conn, q string) int64 {
	t.Helper()
	stmt, _, err := conn.Prepare(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer stmt.Close()
	if !stmt.Step() {
		t.Fatalf("%s: no row: %v", q, stmt.Err())
	}
	return stmt.ColumnInt64(0)
}

// Text returns the first column of every row of q, joined by commas.
func Text(t testing.TB, conn *sqlite3.Conn, q string) string {
	t.Helper()
	stmt, _, err := conn.Prepare(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer stmt.Close()
	var rows []string
	for stmt.Step() {
		rows = append(rows, stmt.ColumnText(0))
	}
	if err := stmt.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(rows, ",")
}

// ReadFile is os.ReadFile that fails the test on error.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
