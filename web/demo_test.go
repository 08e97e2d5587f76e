//go:build !js && browser

package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/internal/site"
)

// TestDemo drives the notes app in headless Chromium the way a person
// does: it writes, edits, searches and deletes notes, reloads, exports,
// resets, imports the export, uses the devtools helpers, clears site data,
// and finally reloads with the server gone (offline). It saves screenshots
// of the app and of the database panel.
func TestDemo(t *testing.T) {
	demo := startDemo(t)
	b := browsertest.NewBrowser(t)
	tab := b.NewTab()
	shots := screenshotDir(t)
	downloads := t.TempDir()
	run(t, tab, "set up", chromedp.EmulateViewport(1280, 800), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))

	run(t, tab, "first load", chromedp.Navigate(demo.URL))
	waitReady(t, tab, "first load")
	// The first load downloads the wasm once: the page's fetch (with its
	// progress bar), larder.js's compile and the service worker's cache all
	// share it through the HTTP cache.
	waitFor(t, tab, "the service worker to cache the app", `navigator.serviceWorker.controller !== null &&
		caches.open("larder-notes-v1").then(c => c.match("dist/larder-fts5.wasm")).then(r => !!r)`)
	full := 0
	for _, r := range demo.since(0) {
		if r.path == "/dist/larder-fts5.wasm" && r.status == http.StatusOK {
			full++
		}
	}
	if full != 1 {
		t.Errorf("first load: the wasm was sent in full %d times, want 1", full)
	}
	if got := titles(t, tab); len(got) != 0 {
		t.Fatalf("a fresh origin shows notes %v", got)
	}
	// What shows: the empty list's hint, no editor until a note is chosen.
	var shown []string
	eval(t, tab, `["list-status", "editor", "editor-empty", "loading"].map(id => {
		const e = document.getElementById(id);
		return getComputedStyle(e).display === "none" ? id + " hidden" : id + ": " + e.innerText.trim();
	})`, &shown)
	if want := []string{"list-status: No notes yet: “New note” creates one.", "editor hidden", "editor-empty: Select a note, or create one.", "loading hidden"}; !slices.Equal(shown, want) {
		t.Errorf("a fresh app shows %q, want %q", shown, want)
	}
	var loadingSteps []string
	eval(t, tab, `[...document.querySelectorAll("#loading-steps li")].map(li => li.textContent)`, &loadingSteps)
	if len(loadingSteps) != 3 || !strings.Contains(loadingSteps[1], "schema version 6") {
		t.Errorf("loading steps %q, want download, open (schema version 6), notes", loadingSteps)
	}

	// Write three notes.
	newNote(t, tab, "Groceries", "home, errands", "Milk and eggs for the week.")
	newNote(t, tab, "Trip to Lisbon", "travel", "Pastéis de nata in Belém, tram 28 to Alfama.")
	newNote(t, tab, "Delete me", "scratch", "A note that does not last.")
	waitFor(t, tab, "three notes", `document.querySelectorAll("#notes li").length === 3`)

	// Edit one: open it from the list, change the body, save.
	openNote(t, tab, "Groceries")
	clear(t, tab, "#note-body")
	run(t, tab, "edit body", chromedp.SendKeys(chromedp.CSS("#note-body"), "Milk, eggs and coffee beans."),
		chromedp.Click(chromedp.CSS("#save-note")))
	waitFor(t, tab, "the edited note", `[...document.querySelectorAll("#notes li")].some(li => li.textContent.includes("coffee beans")) &&
		document.getElementById("editor-status").textContent === "Saved"`)

	// Delete one.
	openNote(t, tab, "Delete me")
	run(t, tab, "delete", chromedp.Click(chromedp.CSS("#delete-note")))
	waitFor(t, tab, "two notes", `document.querySelectorAll("#notes li").length === 2`)
	var tagNames []string
	eval(t, tab, `[...document.querySelectorAll("#tags button")].map(b => b.dataset.tag).filter(Boolean)`, &tagNames)
	if !slices.Equal(tagNames, []string{"errands", "home", "travel"}) {
		t.Errorf("tags after deleting the only 'scratch' note: %v", tagNames)
	}

	// Search (FTS5): prefix, accent-insensitive, tags, highlighted.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"coffee", []string{"Groceries"}},
		{"pasteis", []string{"Trip to Lisbon"}},
		{"tra", []string{"Trip to Lisbon"}}, // prefix: travel, tram
		{"errands", []string{"Groceries"}},  // a tag
		{"scratch", nil},                    // deleted with its note
	} {
		search(t, tab, tc.query)
		if got := titles(t, tab); !slices.Equal(got, tc.want) {
			t.Errorf("search %q: %v, want %v", tc.query, got, tc.want)
		}
	}
	search(t, tab, "coffee")
	var marked []string
	eval(t, tab, `[...document.querySelectorAll("#notes mark")].map(m => m.textContent)`, &marked)
	if !slices.Contains(marked, "coffee") {
		t.Errorf("search coffee highlights %v", marked)
	}
	search(t, tab, "")

	// Filter by a tag.
	click(t, tab, `#tags button[data-tag="travel"]`)
	waitFor(t, tab, "the travel note only", `document.querySelectorAll("#notes li").length === 1`)
	click(t, tab, `#tags button[data-tag=""]`)
	waitFor(t, tab, "all notes", `document.querySelectorAll("#notes li").length === 2`)

	// The README's picture: a search with its highlights, a note open.
	newNote(t, tab, "Larder design notes", "work, ideas",
		"OPFS in a dedicated worker, IndexedDB in service workers. Migrations run once per origin, whatever the number of tabs.")
	search(t, tab, "work")
	openNote(t, tab, "Larder design notes")
	screenshot(t, tab, filepath.Join(shots, "demo.png"), "")
	openNote(t, tab, "Larder design notes")
	run(t, tab, "delete", chromedp.Click(chromedp.CSS("#delete-note")))
	search(t, tab, "")
	waitFor(t, tab, "two notes", `document.querySelectorAll("#notes li").length === 2`)

	// Reload: the notes are still there, and the wasm is not downloaded
	// again: every request for it is answered 304 Not Modified.
	reloadMark := demo.mark()
	run(t, tab, "reload", chromedp.Reload())
	waitReady(t, tab, "reload")
	wasmRequests := 0
	for _, r := range demo.since(reloadMark) {
		if r.path == "/dist/larder-fts5.wasm" {
			wasmRequests++
			if r.status != http.StatusNotModified || r.bytes != 0 {
				t.Errorf("warm reload: %s answered %d with %d bytes, want 304 and none", r.path, r.status, r.bytes)
			}
		}
	}
	if wasmRequests == 0 {
		t.Error("warm reload: the wasm was not revalidated at all (served from a stale cache?)")
	}
	want := []string{"Groceries", "Trip to Lisbon"} // most recently updated first: Groceries was edited last
	if got := titles(t, tab); !slices.Equal(got, want) {
		t.Fatalf("after reload: %v, want %v", got, want)
	}

	// The database panel.
	run(t, tab, "open panel", chromedp.Click(chromedp.CSS("#toggle-panel")))
	waitFor(t, tab, "the migration history", `document.querySelectorAll("#db-migrations tr").length === 6`)
	var panel map[string]string
	eval(t, tab, `Object.fromEntries(["db-storage", "db-persisted", "db-version", "db-size"].map(id => [id, document.getElementById(id).textContent]))`, &panel)
	if panel["db-storage"] != "opfs" || panel["db-version"] != "6" || !strings.HasSuffix(panel["db-size"], "KiB") || panel["db-persisted"] == "" {
		t.Errorf("panel shows %v, want opfs, version 6, a size in KiB and a persistence answer", panel)
	}
	var history []string
	eval(t, tab, `[...document.querySelectorAll("#db-migrations tr")].map(tr => [...tr.cells].slice(0, 2).map(c => c.textContent).join(" "))`, &history)
	if !slices.Equal(history, []string{"1 create_notes", "2 rebuild_notes_strict (breaking)", "3 split_tags (breaking)", "4 notes_fts", "5 add_pinned", "6 text_ids (breaking)"}) {
		t.Errorf("panel history %q", history)
	}
	screenshot(t, tab, filepath.Join(shots, "panel.png"), "#panel")

	// Export: the download is a real SQLite file with both notes.
	run(t, tab, "export", chromedp.Click(chromedp.CSS("#export-db")))
	exported := waitDownload(t, tab, filepath.Join(downloads, "app.sqlite"))
	if got := sqliteTitles(t, exported); !slices.Equal(got, []string{"Groceries", "Trip to Lisbon"}) {
		t.Errorf("exported app.sqlite holds %v", got)
	}

	// Reset, after confirming: empty, migrated anew.
	run(t, tab, "reset", chromedp.Click(chromedp.CSS("#reset-db")), chromedp.Click(chromedp.CSS("#reset-confirm")))
	waitFor(t, tab, "the reset", `document.getElementById("panel").dataset.status?.startsWith("Reset")`)
	waitReady(t, tab, "reset")
	if got := titles(t, tab); len(got) != 0 {
		t.Fatalf("after reset: %v, want no notes", got)
	}
	waitFor(t, tab, "a fresh history", `document.querySelectorAll("#db-migrations tr").length === 6`)

	// Import the export: the notes are back.
	run(t, tab, "import", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{exported}))
	waitFor(t, tab, "the import", `document.getElementById("panel").dataset.status?.startsWith("Imported")`)
	waitReady(t, tab, "import")
	if got := titles(t, tab); !slices.Equal(got, want) {
		t.Fatalf("after import: %v, want %v", got, want)
	}
	search(t, tab, "nata")
	if got := titles(t, tab); !slices.Equal(got, []string{"Trip to Lisbon"}) {
		t.Errorf("search after import: %v", got)
	}
	search(t, tab, "")

	// Import a file that is not a database: refused, nothing lost.
	junk := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(junk, []byte(strings.Repeat("not a database\n", 100)), 0o644)
	run(t, tab, "import junk", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{junk}))
	waitFor(t, tab, "the refusal", `document.getElementById("panel").dataset.status?.startsWith("Import failed")`)
	var status string
	eval(t, tab, `document.getElementById("panel").dataset.status`, &status)
	if !strings.Contains(status, "LARDER_INVALID_DATABASE") {
		t.Errorf("junk import status %q, want LARDER_INVALID_DATABASE", status)
	}
	if got := titles(t, tab); !slices.Equal(got, want) {
		t.Errorf("after a refused import: %v, want %v", got, want)
	}

	// The devtools helpers.
	var migs []struct {
		Version    int64  `json:"version"`
		Name       string `json:"name"`
		AppliedAt  string `json:"appliedAt"`
		DurationMs int64  `json:"durationMs"`
	}
	eval(t, tab, `larder.migrations("notes")`, &migs)
	if len(migs) != 6 || migs[5].Name != "text_ids" || migs[0].AppliedAt == "" {
		t.Errorf("larder.migrations: %+v", migs)
	}
	var size int
	eval(t, tab, `larder.export("notes").then(b => b.byteLength)`, &size)
	exported2 := waitDownload(t, tab, filepath.Join(downloads, "notes.sqlite"))
	if fi, _ := os.Stat(exported2); size < 4096 || fi.Size() != int64(size) {
		t.Errorf("larder.export: %d bytes returned, %s downloaded", size, exported2)
	}
	var msg string
	eval(t, tab, `larder.reset("notes")`, &msg)
	waitReady(t, tab, "larder.reset")
	if got := titles(t, tab); len(got) != 0 {
		t.Errorf("after larder.reset: %v (%s)", got, msg)
	}
	var unknown string
	eval(t, tab, `larder.migrations("nope").then(() => "resolved", e => e.message)`, &unknown)
	if !strings.Contains(unknown, "no database named") {
		t.Errorf(`larder.migrations("nope"): %q`, unknown)
	}
	// Another database of the origin: reset deletes it without the app
	// noticing; opened again, it is empty.
	var other []string
	eval(t, tab, `(async () => {
		const { open } = await import("./dist/larder.js");
		const wasm = "./dist/larder-fts5.wasm";
		let db = await open({ name: "scratch", wasm, migrations: [{ version: 1, name: "t", up: "CREATE TABLE t (x)" }] });
		await db.exec("INSERT INTO t VALUES (1)");
		const before = (await db.query("SELECT count(*) AS n FROM t"))[0].n;
		await db.close();
		const said = await larder.reset("scratch");
		db = await open({ name: "scratch", wasm, migrations: [{ version: 1, name: "t", up: "CREATE TABLE t (x)" }] });
		const after = (await db.query("SELECT count(*) AS n FROM t"))[0].n;
		await db.close();
		return [String(before), said, String(after)];
	})()`, &other)
	if !slices.Equal(other, []string{"1", "scratch: deleted", "0"}) {
		t.Errorf(`larder.reset("scratch"): %q, want [1 "scratch: deleted" 0]`, other)
	}

	// "Clear site data", then reload: migrated from scratch, no error.
	newNote(t, tab, "Before clearing", "", "gone after Clear site data")
	origin := strings.TrimSuffix(demo.URL, "/")
	run(t, tab, "clear site data", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: origin, StorageTypes: "all"})
		return err
	}))
	run(t, tab, "reload after clearing", chromedp.Reload())
	waitReady(t, tab, "clear site data")
	if got := titles(t, tab); len(got) != 0 {
		t.Errorf("after Clear site data: %v, want none", got)
	}
	eval(t, tab, `larder.migrations("notes")`, &migs)
	if len(migs) != 6 {
		t.Errorf("after Clear site data: %d migrations applied, want 6", len(migs))
	}

	// Offline: once the service worker has cached the app, it opens with the
	// server gone, with its data.
	newNote(t, tab, "Written online", "offline", "Still here without a network.")
	waitFor(t, tab, "the service worker to cache the app", `navigator.serviceWorker.controller !== null &&
		caches.open("larder-notes-v1").then(c => c.match("dist/larder-fts5.wasm")).then(r => !!r)`)
	// Online, an unchanged module comes from Cache Storage, where Chromium
	// keeps V8's code cache beside it; the network's copy passed on by the
	// service worker would have none (docs/startup.md).
	run(t, tab, "reload online", chromedp.Reload())
	waitReady(t, tab, "online reload")
	var delivery string
	eval(t, tab, `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/dist/larder-fts5.wasm")).map((e) => e.deliveryType).join(",")`, &delivery)
	if delivery != "cache-storage" {
		t.Errorf("online reload: larder-fts5.wasm delivered as %q, want one fetch from \"cache-storage\"", delivery)
	}
	demo.stop()
	run(t, tab, "reload offline", chromedp.Reload())
	waitReady(t, tab, "offline")
	if got := titles(t, tab); !slices.Equal(got, []string{"Written online"}) {
		t.Errorf("offline: %v, want [Written online]", got)
	}
	newNote(t, tab, "Written offline", "offline", "Saved with no server.")
	waitFor(t, tab, "two notes offline", `document.querySelectorAll("#notes li").length === 2`)

	noErrors(t, tab)
	t.Logf("screenshots in %s", shots)
}

func waitReady(t *testing.T, tab *browsertest.Tab, when string) {
	t.Helper()
	waitFor(t, tab, "the app to open its database",
		`document.body.dataset.ready === "true" || document.getElementById("loading").classList.contains("failed")`)
	var failed string
	eval(t, tab, `document.getElementById("loading").classList.contains("failed") ? document.getElementById("loading").textContent : ""`, &failed)
	if failed != "" {
		t.Fatalf("%s: the app failed to open: %s\nconsole:\n%s", when, strings.Join(strings.Fields(failed), " "), strings.Join(tab.Logs(), "\n"))
	}
}

func newNote(t *testing.T, tab *browsertest.Tab, title, tags, body string) {
	t.Helper()
	var before int
	eval(t, tab, `document.querySelectorAll("#notes li").length`, &before)
	run(t, tab, "new note "+title,
		chromedp.Click(chromedp.CSS("#new-note")),
		chromedp.SendKeys(chromedp.CSS("#note-title"), title),
		chromedp.SendKeys(chromedp.CSS("#note-tags"), tags),
		chromedp.SendKeys(chromedp.CSS("#note-body"), body),
		chromedp.Click(chromedp.CSS("#save-note")))
	waitFor(t, tab, "note "+title, fmt.Sprintf(`document.querySelectorAll("#notes li").length === %d &&
		document.getElementById("editor-status").textContent === "Saved"`, before+1))
}

func openNote(t *testing.T, tab *browsertest.Tab, title string) {
	t.Helper()
	q, _ := json.Marshal(title)
	var ok bool
	eval(t, tab, fmt.Sprintf(`(() => {
		const li = [...document.querySelectorAll("#notes li")].find(li => li.querySelector(".note-title").textContent.endsWith(%s));
		if (!li) return false;
		li.click();
		return true;
	})()`, q), &ok)
	if !ok {
		t.Fatalf("no note %q in the list %v", title, titles(t, tab))
	}
	waitFor(t, tab, "the editor on "+title, fmt.Sprintf(`document.getElementById("note-title").value === %s`, q))
}

// search types into the search box as a person would (after clearing it)
// and waits for the list to show the result of that query.
func search(t *testing.T, tab *browsertest.Tab, q string) {
	t.Helper()
	clear(t, tab, "#search")
	if q != "" {
		run(t, tab, "search "+q, chromedp.SendKeys(chromedp.CSS("#search"), q))
	} else {
		eval(t, tab, `document.getElementById("search").dispatchEvent(new Event("input"))`, nil)
	}
	qq, _ := json.Marshal(q)
	want := fmt.Sprintf(`(document.getElementById("list-status").textContent.includes("matching “" + %s + "”")) === (%s !== "")`, qq, qq)
	waitFor(t, tab, "results for "+q, want)
}

// click clicks an element in one step of the page's own event loop, so a
// re-render between finding it and clicking it cannot lose the click.
func click(t *testing.T, tab *browsertest.Tab, sel string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	var ok bool
	eval(t, tab, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.click(); return true; })()`, q), &ok)
	if !ok {
		t.Fatalf("no %s to click", sel)
	}
}

// clear empties a text field, as selecting its text and deleting it does.
func clear(t *testing.T, tab *browsertest.Tab, sel string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	eval(t, tab, fmt.Sprintf(`document.querySelector(%s).value = ""`, q), nil)
}

func titles(t *testing.T, tab *browsertest.Tab) []string {
	t.Helper()
	var out []string
	eval(t, tab, `[...document.querySelectorAll("#notes .note-title")].map(e => e.textContent.replace(/^📌 /, ""))`, &out)
	return out
}

func screenshot(t *testing.T, tab *browsertest.Tab, path, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), step)
	defer cancel()
	var (
		png []byte
		err error
	)
	if sel == "" {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else {
		png, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitDownload waits for Chromium to finish writing a download.
func waitDownload(t *testing.T, tab *browsertest.Tab, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), step)
	defer cancel()
	for {
		fi, err := os.Stat(path)
		if err == nil && fi.Size() > 0 {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return path
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("download %s did not appear", path)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sqliteTitles opens an exported file natively and lists its notes.
func sqliteTitles(t *testing.T, path string) []string {
	t.Helper()
	conn, err := sqlite3.OpenFlags(path, sqlite3.OPEN_READONLY)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer conn.Close()
	if err := conn.Exec("PRAGMA integrity_check"); err != nil {
		t.Errorf("%s: integrity_check: %v", path, err)
	}
	return column(t, conn, "SELECT title FROM notes ORDER BY title")
}

// TestDemoTwoTabs opens the app in two tabs: a note written in one appears
// in the other without a reload (the database's change event).
func TestDemoTwoTabs(t *testing.T) {
	demo := startDemo(t)
	b := browsertest.NewBrowser(t)
	first, second := b.NewTab(), b.NewTab()
	for i, tab := range []*browsertest.Tab{first, second} {
		run(t, tab, "load", chromedp.Navigate(demo.URL))
		waitReady(t, tab, fmt.Sprintf("tab %d", i+1))
	}
	newNote(t, first, "Shared shopping list", "home", "Bread, apples.")
	waitFor(t, second, "the note from the other tab", `[...document.querySelectorAll("#notes .note-title")].some(e => e.textContent === "Shared shopping list")`)
	newNote(t, second, "Reply", "", "Added oranges.")
	waitFor(t, first, "the reply", `document.querySelectorAll("#notes li").length === 2`)
	noErrors(t, first)
	noErrors(t, second)
}

// TestDemoUpgrade deploys a release with one more migration while a tab of
// the previous release is open, and opens the new release in another tab,
// which migrates the database. The old tab tells its user; after an
// additive migration it keeps working, after a breaking one its writes are
// refused (LARDER_OUTDATED) and it offers a reload.
func TestDemoUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name, sql, banner, saved string
	}{
		{"additive", "ALTER TABLE notes ADD COLUMN color TEXT;",
			"Another tab upgraded the database from version 6 to 7.", ""},
		{"breaking", "-- migrate:breaking\nALTER TABLE notes RENAME COLUMN body TO text;",
			"Another tab upgraded the database from version 6 to 7 with a breaking change: reload this tab. Reload", "LARDER_OUTDATED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			demo := startDemo(t)
			b := browsertest.NewBrowser(t)
			old := b.NewTab()
			run(t, old, "load the old release", chromedp.Navigate(demo.URL))
			waitReady(t, old, "old release")

			next := fstest.MapFS{"0007_next.sql": {Data: []byte("-- migrate:up\n" + tc.sql + "\n")}}
			entries, err := fs.ReadDir(Migrations(), ".")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				data, err := fs.ReadFile(Migrations(), e.Name())
				if err != nil {
					t.Fatal(err)
				}
				next[e.Name()] = &fstest.MapFile{Data: data}
			}
			h, err := site.New(site.Config{App: App(), Dist: os.DirFS(browsertest.Dist(t)), Migrations: next})
			if err != nil {
				t.Fatal(err)
			}
			demo.deploy(h)

			fresh := b.NewTab()
			run(t, fresh, "load the new release", chromedp.Navigate(demo.URL))
			waitReady(t, fresh, "new release")
			var version int
			eval(t, fresh, `larder.db.version`, &version)
			if version != 7 {
				t.Fatalf("the new release opened version %d, want 7", version)
			}
			waitFor(t, old, "the upgrade banner", `!document.getElementById("banner").hidden`)
			var banner string
			eval(t, old, `document.getElementById("banner").textContent`, &banner)
			if banner != tc.banner {
				t.Errorf("old tab's banner: %q, want %q", banner, tc.banner)
			}

			if tc.saved == "" {
				newNote(t, old, "Written by the old release", "", "Still works: 0007 only added a column.")
				waitFor(t, fresh, "the old tab's note", `[...document.querySelectorAll("#notes .note-title")].some(e => e.textContent === "Written by the old release")`)
			} else {
				run(t, old, "try to write",
					chromedp.Click(chromedp.CSS("#new-note")),
					chromedp.SendKeys(chromedp.CSS("#note-title"), "Written by the old release"),
					chromedp.Click(chromedp.CSS("#save-note")))
				waitFor(t, old, "the refusal", `document.getElementById("editor-status").textContent.startsWith("Not saved")`)
				var status string
				eval(t, old, `document.getElementById("editor-status").textContent`, &status)
				if !strings.Contains(status, tc.saved) {
					t.Errorf("old tab's save: %q, want %s", status, tc.saved)
				}
			}
			noErrors(t, old)
			noErrors(t, fresh)
		})
	}
}
