//go:build !js && workerd

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// imageWith is a real SQLite file holding one row with v.
func imageWith(t *testing.T, v string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	conn, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('" + v + "')"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorkerUsersAndConditionalPut(t *testing.T) {
	state := t.TempDir()
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), state, 1)
	alice, bob := tokenFor(t, "alice", nil), tokenFor(t, "bob@example.com", nil)
	a1, a2, a3, b1 := imageWith(t, "alice 1"), imageWith(t, "alice 2"), imageWith(t, "alice 3"), imageWith(t, "bob 1")
	as := func(tok string) *worker { w.Token = tok; return w }
	expect := func(what string, r response, status int, code string) {
		t.Helper()
		var e errorBody
		if status >= 400 {
			r.JSON(t, &e)
		}
		if r.Status != status || e.Error.Code != code {
			t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
		}
	}

	// A PUT must say whether it creates or replaces.
	expect("PUT without a precondition", as(alice).do(t, "PUT", "/api/backup/notes", "", a1), 428, "LARDER_PRECONDITION_REQUIRED")
	expect("If-None-Match other than *", as(alice).do(t, "PUT", "/api/backup/notes", "", a1, "If-None-Match", `"abc"`), 400, "LARDER_BAD_REQUEST")
	expect("weak If-Match", as(alice).do(t, "PUT", "/api/backup/notes", "", a1, "If-Match", `W/"abc"`), 400, "LARDER_BAD_REQUEST")
	expect("If-Match on nothing", as(alice).do(t, "PUT", "/api/backup/notes", "", a1, "If-Match", `"0123abcd"`), 412, "LARDER_PRECONDITION_FAILED")

	r := as(alice).do(t, "PUT", "/api/backup/notes", "", a1, "If-None-Match", "*")
	expect("alice creates notes", r, 201, "")
	etag1 := r.Header.Get("ETag")
	var put backupInfo
	r.JSON(t, &put)
	if etag1 == "" || `"`+put.ETag+`"` != etag1 || put.Name != "notes" || put.Size != int64(len(a1)) {
		t.Fatalf("create answered ETag %q, %+v", etag1, put)
	}
	expect("create again", as(alice).do(t, "PUT", "/api/backup/notes", "", a2, "If-None-Match", "*"), 412, "LARDER_PRECONDITION_FAILED")

	// Bob sees nothing of alice's, and his own "notes" is another object.
	expect("bob reads alice's name", as(bob).do(t, "GET", "/api/backup/notes", "", nil), 404, "LARDER_NOT_FOUND")
	expect("bob replaces with alice's ETag", as(bob).do(t, "PUT", "/api/backup/notes", "", b1, "If-Match", etag1), 412, "LARDER_PRECONDITION_FAILED")
	expect("bob replaces whatever exists", as(bob).do(t, "PUT", "/api/backup/notes", "", b1, "If-Match", "*"), 412, "LARDER_PRECONDITION_FAILED")
	if r := as(bob).do(t, "GET", "/api/backups", "", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Errorf("bob's list before his first backup: %d %s", r.Status, r.Body)
	}
	expect("bob creates his notes", as(bob).do(t, "PUT", "/api/backup/notes", "", b1, "If-None-Match", "*"), 201, "")

	// Alice replaces her version with its ETag; the stale ETag is refused.
	r = as(alice).do(t, "PUT", "/api/backup/notes", "", a2, "If-Match", etag1)
	expect("alice replaces with the current ETag", r, 200, "")
	etag2 := r.Header.Get("ETag")
	if etag2 == "" || etag2 == etag1 {
		t.Errorf("replace answered ETag %q (was %q)", etag2, etag1)
	}
	expect("a stale device replaces", as(alice).do(t, "PUT", "/api/backup/notes", "", a3, "If-Match", etag1), 412, "LARDER_PRECONDITION_FAILED")
	expect("unquoted current ETag", as(alice).do(t, "PUT", "/api/backup/notes", "", a3, "If-Match", strings.Trim(etag2, `"`)), 200, "")
	r = as(alice).do(t, "GET", "/api/backup/notes", "", nil)
	if r.Status != 200 || !bytes.Equal(r.Body, a3) {
		t.Errorf("alice's notes after the stale write: %d, %d bytes, want alice 3", r.Status, len(r.Body))
	}
	if r := as(bob).do(t, "GET", "/api/backup/notes", "", nil); r.Status != 200 || !bytes.Equal(r.Body, b1) {
		t.Errorf("bob's notes: %d, %d bytes, want his own", r.Status, len(r.Body))
	}
	for who, tok := range map[string]string{"alice": alice, "bob": bob} {
		var list []backupInfo
		as(tok).do(t, "GET", "/api/backups", "", nil).JSON(t, &list)
		if len(list) != 1 || list[0].Name != "notes" {
			t.Errorf("%s lists %+v, want only their own notes", who, list)
		}
	}
	w.stop(t)

	// In the bucket: each user under u/<sha256(sub)>/, and alice's two
	// replaced versions kept under v/<sha256(sub)>/notes/.
	var found []string
	filepath.WalkDir(filepath.Join(state, "r2"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sqlite") && filepath.Base(p) != "metadata.sqlite" {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("want one R2 metadata database under %s, found %q", state, found)
	}
	conn, err := sqlite3.OpenFlags(found[0], sqlite3.OPEN_READONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stmt, _, err := conn.Prepare("SELECT key, size FROM _mf_objects ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	id := func(sub string) string { s := sha256.Sum256([]byte(sub)); return hex.EncodeToString(s[:]) }
	var keys []string
	sizes := map[string]int64{}
	for stmt.Step() {
		keys = append(keys, stmt.ColumnText(0))
		sizes[stmt.ColumnText(0)] = stmt.ColumnInt64(1)
	}
	want := map[string]bool{"u/" + id("alice") + "/notes": true, "u/" + id("bob@example.com") + "/notes": true}
	versions := 0
	for _, k := range keys {
		switch {
		case want[k]:
			delete(want, k)
		case strings.HasPrefix(k, "v/"+id("alice")+"/notes/"):
			versions++
		default:
			t.Errorf("unexpected key %q", k)
		}
	}
	if len(want) != 0 || versions != 2 {
		t.Errorf("bucket keys %q: want alice's and bob's notes and 2 kept versions of alice's", keys)
	}
	t.Logf("bucket keys: %q (sizes %v)", keys, sizes)
}
