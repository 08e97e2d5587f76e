package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateDemoWithFTS5 applies the demo's migrations, whose 0004 creates
// an FTS5 table, with the CLI.
func TestMigrateDemoWithFTS5(t *testing.T) {
	db := filepath.Join(t.TempDir(), "notes.sqlite")
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	dir := filepath.Join("..", "..", "web", "migrations")
	if code := run(context.Background(), e, []string{"migrate", "up", "--db", db, "--dir", dir}); code != 0 {
		t.Fatalf("migrate up: exit %d: %s", code, stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), e, []string{"migrate", "status", "--db", db, "--dir", dir, "--json"}); code != 0 {
		t.Fatalf("migrate status: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"notes_fts"`) || strings.Contains(stdout.String(), `"pending"`) {
		t.Errorf("status after up: %s", stdout.String())
	}
}
