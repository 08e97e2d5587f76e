//go:build !js && browser && workerd

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/browsertest"
)

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
  await dst.restore(W + "/api/backup/notes-1", auth);
  const dstRows = await rowsOf(dst);
  const dstMigrations = (await dst.migrations()).map(m => m.version);
  let refused = null;
  try {
    const r = await fetch(W + "/api/backup/junk", { method: "PUT", body: "not sqlite", ...create });
    refused = { status: r.status, body: await r.json() };
  } catch (e) { refused = { error: String(e) }; }
  return { put, size: exported.length, sha: await hash(exported), srcRows, dstRows, before, afterMissing, missing, dstMigrations, storage: dst.storage, refused };
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
