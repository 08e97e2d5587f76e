//go:build !js

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/browsertest"
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

const backupPage = `<!doctype html><meta charset="utf-8"><title>larder edge test</title>
<script type="module">
import * as L from "/dist/larder.js";
window.L = L;
window.larderReady = true;
</script>`

// The whole path a user takes: a browser database is exported and backed up
// to the Worker (R2), then restored into a fresh browser database, which
// then holds the same rows.
func TestWorkerBackupRestoreInBrowser(t *testing.T) {
	dist := browsertest.Dist(t)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(edgeDir), "jsbridge", "js", "larder.js"))
	if err != nil {
		t.Fatal(err)
	}
	if built, err := os.ReadFile(filepath.Join(dist, "larder.js")); err != nil || !bytes.Equal(built, src) {
		t.Fatalf("%s/larder.js is older than jsbridge/js/larder.js: run `make build` (make test does)", dist)
	}
	srv := browsertest.Serve(t)
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), t.TempDir(), 1, "CORS_ORIGINS="+srv.URL)
	srv.Mount("/dist/", dist)
	srv.SetFile("/index.html", []byte(backupPage))
	tab := browsertest.NewBrowser(t).NewTab()
	if err := tab.Navigate(srv.URL + "/index.html"); err != nil {
		t.Fatal(err)
	}
	if err := tab.Eval(`new Promise(r => { const c = () => window.larderReady ? r(true) : setTimeout(c, 10); c(); })`, nil); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`(async () => {
  const W = %q;
  const auth = { headers: { Authorization: "Bearer " + %q } };
  const create = { headers: { ...auth.headers, "If-None-Match": "*" } };
  const migs = [
    { version: 1, name: "init", up: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT, data BLOB)" },
    { version: 2, name: "tags", up: "ALTER TABLE note ADD COLUMN tags TEXT NOT NULL DEFAULT ''" },
  ];
  const rowsOf = db => db.query("SELECT id, body, hex(data) AS data, tags FROM note ORDER BY id");
  const hash = async b => [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map(x => x.toString(16).padStart(2, "0")).join("");

  const src = await L.open({ name: "edge-src", storage: "auto", migrations: migs });
  await src.exec("INSERT INTO note (body, data, tags) VALUES (?, ?, ?), (?, ?, ?)",
    ["hello; world", new Uint8Array([1, 2, 3]), "a b", "ünïcödé ✓", null, ""]);
  await src.transaction(async tx => {
    for (let i = 0; i < 300; i++) await tx.exec("INSERT INTO note (body) VALUES (?)", ["bulk " + i + " " + "x".repeat(100)]);
  });
  const exported = await src.export();
  const put = await src.backup(W + "/api/backup/notes-1", create);
  const srcRows = await rowsOf(src);

  const dst = await L.open({ name: "edge-dst", storage: "auto", migrations: migs.slice(0, 1) });
  const before = (await dst.query("SELECT count(*) AS n FROM note"))[0].n;
  let missing = null;
  try { await dst.restore(W + "/api/backup/nothing-here", auth); } catch (e) { missing = { code: e.code, status: e.status, message: e.message }; }
  const afterMissing = (await dst.query("SELECT count(*) AS n FROM note"))[0].n;
  // The backup holds migration 2, which dst's code does not know: refused
  // unless the app says it accepts schema it cannot check.
  let unknown = null;
  try { await dst.restore(W + "/api/backup/notes-1", auth); } catch (e) { unknown = { code: e.code, message: e.message }; }
  const afterUnknown = (await dst.query("SELECT count(*) AS n FROM note"))[0].n;
  await dst.restore(W + "/api/backup/notes-1", auth, { allowExtraSchema: true });
  const dstRows = await rowsOf(dst);
  const dstMigrations = (await dst.migrations()).map(m => m.version);
  let refused = null;
  try {
    const r = await fetch(W + "/api/backup/junk", { method: "PUT", body: "not sqlite", ...create });
    refused = { status: r.status, body: await r.json() };
  } catch (e) { refused = { error: String(e) }; }
  return { put, size: exported.length, sha: await hash(exported), srcRows, dstRows, before, afterMissing, missing, unknown, afterUnknown, dstMigrations, storage: dst.storage, refused };
})()`, w.URL, w.Token)
	var out struct {
		Put          backupInfo       `json:"put"`
		Size         int64            `json:"size"`
		SHA          string           `json:"sha"`
		SrcRows      []map[string]any `json:"srcRows"`
		DstRows      []map[string]any `json:"dstRows"`
		Before       int              `json:"before"`
		AfterMissing int              `json:"afterMissing"`
		Missing      *struct {
			Code    string `json:"code"`
			Status  int    `json:"status"`
			Message string `json:"message"`
		} `json:"missing"`
		AfterUnknown int `json:"afterUnknown"`
		Unknown      *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"unknown"`
		DstMigrations []int64 `json:"dstMigrations"`
		Storage       string  `json:"storage"`
		Refused       struct {
			Status int       `json:"status"`
			Body   errorBody `json:"body"`
		} `json:"refused"`
	}
	if err := tab.Eval(script, &out); err != nil {
		t.Fatalf("browser: %v\nconsole:\n%s\nworker:\n%s", err, strings.Join(tab.Logs(), "\n"), w.logs)
	}
	if out.Put.Name != "notes-1" || out.Put.Size != out.Size || out.Size < 3*4096 {
		t.Errorf("backup answered %+v for an export of %d bytes", out.Put, out.Size)
	}
	if len(out.SrcRows) != 302 || fmt.Sprint(out.DstRows) != fmt.Sprint(out.SrcRows) {
		t.Errorf("restored rows differ: %d source rows, %d restored; first %v vs %v", len(out.SrcRows), len(out.DstRows), first(out.SrcRows), first(out.DstRows))
	}
	if got := out.DstRows[0]; got["body"] != "hello; world" || got["data"] != "010203" || got["tags"] != "a b" {
		t.Errorf("first restored row: %v", got)
	}
	if fmt.Sprint(out.DstMigrations) != "[1 2]" {
		t.Errorf("the restored database's migrations: %v, want the backup's [1 2]", out.DstMigrations)
	}
	if out.Missing == nil || out.Missing.Code != "LARDER_NOT_FOUND" || out.Missing.Status != 404 || out.AfterMissing != out.Before {
		t.Errorf("restore of a missing backup: %+v; rows %d before, %d after", out.Missing, out.Before, out.AfterMissing)
	}
	if out.Unknown == nil || out.Unknown.Code != "LARDER_INVALID_DATABASE" || !strings.Contains(out.Unknown.Message, "0002_tags") || out.AfterUnknown != out.Before {
		t.Errorf("restore of a backup with a migration this code does not know, without allowExtraSchema: %+v; rows %d before, %d after", out.Unknown, out.Before, out.AfterUnknown)
	}
	if out.Refused.Status != 400 || out.Refused.Body.Error.Code != "LARDER_INVALID_DATABASE" {
		t.Errorf("non-SQLite upload from the page: %+v", out.Refused)
	}
	t.Logf("browser storage %s: backed up %d bytes, restored %d rows", out.Storage, out.Size, len(out.DstRows))

	// The stored object is the exported file, byte for byte, and lists.
	r := w.do(t, "GET", "/api/backup/notes-1", "", nil)
	sum := sha256.Sum256(r.Body)
	if r.Status != 200 || hex.EncodeToString(sum[:]) != out.SHA || r.Header.Get("Content-Type") != "application/vnd.sqlite3" {
		t.Errorf("GET /api/backup/notes-1: %d, %d bytes, %s", r.Status, len(r.Body), r.Header.Get("Content-Type"))
	}
	var list []backupInfo
	w.do(t, "GET", "/api/backups", "", nil).JSON(t, &list)
	if len(list) != 1 || list[0].Name != "notes-1" || list[0].Size != out.Size || list[0].Uploaded == "" {
		t.Errorf("GET /api/backups: %+v", list)
	}
	if r.Status == http.StatusOK {
		// And SQLite opens the download natively too.
		path := filepath.Join(t.TempDir(), "restored.sqlite")
		os.WriteFile(path, r.Body, 0o644)
		conn, err := sqlite3.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if n := queryInt(t, conn, "SELECT count(*) FROM note"); n != 302 {
			t.Errorf("downloaded backup has %d notes, want 302", n)
		}
	}
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

func first(rows []map[string]any) any {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}
