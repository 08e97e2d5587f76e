package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// migrate up prints the engine's notices under the migration they are
// about: here a golang-migrate pair that brings its own transaction and
// switches foreign keys off around it, as pocket-id's files do.
func TestUpPrintsNotices(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "migrations")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "1_users.up.sql"), []byte("PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE users (id TEXT PRIMARY KEY);\nCOMMIT;\nPRAGMA foreign_keys=ON;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "1_users.down.sql"), []byte("BEGIN;\nDROP TABLE users;\nCOMMIT;\n"), 0o644)
	db := filepath.Join(root, "app.db")
	larder(t, "migrate", "up", "--db", db, "--dir", dir).want(t, 0,
		"applied 1_users.up.sql",
		"  notice: 1_users.up.sql:1: PRAGMA foreign_keys=OFF was not run",
		"  notice: 1_users.up.sql:2: BEGIN … COMMIT (line 4) around the whole part was not run")
	larder(t, "migrate", "down", "--db", db, "--dir", dir, "--steps", "1").want(t, 0,
		"reverted 1_users.up.sql", "  notice: 1_users.down.sql:1: BEGIN … COMMIT (line 3)")
	r := larder(t, "migrate", "up", "--db", db, "--dir", dir, "--json")
	r.want(t, 0)
	var steps []struct {
		Notices []string `json:"notices"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &steps); err != nil || len(steps) != 1 || len(steps[0].Notices) != 3 ||
		!strings.Contains(steps[0].Notices[2], "BEGIN … COMMIT") {
		t.Fatalf("JSON steps %s (%v)", r.stdout, err)
	}
}
