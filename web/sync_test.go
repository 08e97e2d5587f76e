//go:build !js && browser

package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/larderdb/larder/internal/browsertest"
)

// TestDemoSyncIndicator checks the sync indicator against the page API,
// without an edge: plain (no ?user=) the app does not sync and shows no
// indicator; with ?user= and no dist/sync-dev.json it runs local-only and
// says sync is not set up; the indicator follows a handle's syncStatus and
// "syncstatus" events (a stand-in EventTarget with the documented shape,
// since a larder.js without sync has neither), and describe() renders each
// state. The first-render mark is set once and the Database panel lists it.
func TestDemoSyncIndicator(t *testing.T) {
	demo := startDemo(t)
	// dist/sync-dev.json is whatever the last `make run-sync` left: the
	// test answers it itself, 404 first.
	var settings atomic.Value
	settings.Store("")
	app := demo.h
	demo.deploy(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/dist/sync-dev.json") {
			app.ServeHTTP(w, r)
		} else if settings.Load() == "" {
			http.NotFound(w, r)
		} else {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, settings.Load().(string))
		}
	}))
	b := browsertest.NewBrowser(t)
	tab := b.NewTab()
	watchCrash(t, tab)

	run(t, tab, "load", chromedp.Navigate(demo.URL))
	waitLong(t, tab, "a first visit to open", `document.body?.dataset.ready === "true" || document.getElementById("loading")?.classList.contains("failed")`)
	waitReady(t, tab, "no sync")
	var state []string
	eval(t, tab, `[document.getElementById("sync-status").dataset.state, String(document.getElementById("sync-status").hidden),
		String(document.getElementById("sync-now").hidden)]`, &state)
	if strings.Join(state, " ") != "off true true" {
		t.Errorf("indicator without sync: %v, want off and hidden", state)
	}
	for _, r := range demo.since(0) {
		if strings.HasSuffix(r.path, "sync-dev.json") {
			t.Errorf("the page fetched %s without ?user=", r.path)
		}
	}
	newNote(t, tab, "Local note", "home", "no owner")
	var owner []string
	eval(t, tab, `larder.db.query("SELECT owner_id, length(id) AS n FROM notes").then(r => r.map(x => x.owner_id + " " + x.n))`, &owner)
	if len(owner) != 1 || owner[0] != " 36" {
		t.Errorf("a note without sync: %q, want owner '' and a 36-character UUID", owner)
	}

	// First render: one mark per page, shown in the Database panel.
	var marks int
	eval(t, tab, `performance.getEntriesByName("larder:demo:first-render", "mark").length`, &marks)
	if marks != 1 {
		t.Errorf("first-render marks: %d, want 1", marks)
	}
	run(t, tab, "open panel", chromedp.Click(chromedp.CSS("#toggle-panel")))
	waitFor(t, tab, "the start-up figures", `[...document.querySelectorAll("#db-timings td")].some(td => td.textContent === "larder:demo:first-render")`)

	// ?user= but no settings file: local-only, with an error that says why.
	// Each next page opens in a new tab after the last one closed: a
	// same-tab navigation to another URL crashes Chromium 156's renderer
	// about half the time (SIGSEGV in the old page's worker as the browser
	// tears it down; docs/sync.md, "Known problem"), which no page code
	// can prevent.
	tab = nextTab(t, b, tab)
	run(t, tab, "load as alice", chromedp.Navigate(demo.URL+"?user=alice"))
	waitLong(t, tab, "the page as alice to open", `document.body?.dataset.ready === "true" || document.getElementById("loading")?.classList.contains("failed")`)
	waitReady(t, tab, "as alice")
	waitFor(t, tab, "the setup error", `document.getElementById("sync-status").dataset.state === "error"`)
	var title string
	eval(t, tab, `document.getElementById("sync-status").title`, &title)
	if !strings.Contains(title, "make run-sync") {
		t.Errorf("setup error title %q does not say to run make run-sync", title)
	}
	newNote(t, tab, "Alice's note", "", "owned")
	eval(t, tab, `larder.db.query("SELECT owner_id FROM notes WHERE title = 'Alice''s note'").then(r => r.map(x => x.owner_id))`, &owner)
	if len(owner) != 1 || owner[0] != "alice" {
		t.Errorf("a note written as alice: owner %q", owner)
	}

	// With settings (an edge that is not there), open() gets the sync
	// option: a larder.js without sync ignores it and the indicator says
	// sync is unavailable; one with sync is offline or in error, the notes
	// kept.
	settings.Store(`{"url":"http://127.0.0.1:9","tokens":{"alice":"not-a-token"}}`)
	tab = nextTab(t, b, tab)
	run(t, tab, "load as alice with settings", chromedp.Navigate(demo.URL+"?user=alice"))
	waitReady(t, tab, "as alice with settings")
	var hasSync bool
	eval(t, tab, `"syncStatus" in larder.db`, &hasSync)
	cond := `document.getElementById("sync-status").dataset.state === "unsupported"`
	if hasSync {
		cond = `["offline", "error"].includes(document.getElementById("sync-status").dataset.state)`
	}
	waitFor(t, tab, "the indicator with settings (larder.js has sync: "+fmt.Sprint(hasSync)+")", cond)
	if got := titles(t, tab); len(got) != 2 {
		t.Errorf("notes with sync settings: %v, want the two notes", got)
	}

	// The indicator on a handle with the documented sync API.
	var got []string
	eval(t, tab, `(async () => {
		const { Indicator, describe } = await import("./sync.js");
		const el = document.getElementById("sync-status");
		const fake = new EventTarget();
		fake.syncStatus = { connected: false, uploading: false, downloading: false, pending: 2, lastSyncedAt: null, lastError: null, outdated: false };
		fake.sync = async () => ({ pushed: 0, pulled: 0, rejected: [] });
		const ind = new Indicator();
		ind.attach(fake, { user: "alice" });
		const seen = [el.dataset.state + ": " + el.textContent];
		const emit = (s) => {
			fake.syncStatus = { ...fake.syncStatus, ...s };
			fake.dispatchEvent(new CustomEvent("syncstatus", { detail: fake.syncStatus }));
			seen.push(el.dataset.state + ": " + el.textContent);
		};
		emit({ connected: true, uploading: true });
		emit({ uploading: false, pending: 0, lastSyncedAt: new Date().toISOString() });
		emit({ lastError: { code: "LARDER_HTTP_ERROR", message: "fetch failed" } });
		emit({ lastError: null, outdated: true });
		seen.push("sync-now hidden: " + document.getElementById("sync-now").hidden);
		ind.attach({ exec() {} }, { user: "alice" }); // a larder.js without sync
		seen.push(el.dataset.state + ": " + el.textContent);
		ind.attach(null);
		seen.push(el.dataset.state + " hidden: " + el.hidden);
		seen.push(describe({ connected: true, uploading: false, downloading: false, pending: 0,
			lastSyncedAt: new Date(Date.now() - 120000).toISOString(), lastError: null, outdated: false }).text);
		return seen;
	})()`, &got)
	want := []string{
		"offline: Offline · 2 to send",
		"syncing: Sending… · 2 to send",
		"synced: Synced just now",
		"error: Sync error: LARDER_HTTP_ERROR",
		"outdated: Sync paused: reload",
		"sync-now hidden: false",
		"unsupported: Sync unavailable",
		"off hidden: true",
		"Synced 2 min ago",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("indicator states:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	noErrors(t, tab)
}

// waitLong is waitFor with three steps as its hang guard: a first visit
// compiles the 20 MB wasm, on two cores shared with other tests.
func waitLong(t *testing.T, tab *browsertest.Tab, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), 3*step)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(3*step))); err != nil {
		t.Fatalf("waiting for %s: %v\nconsole:\n%s%s", what, err, strings.Join(tab.Logs(), "\n"), crashNote(tab))
	}
}

// nextTab closes tab and opens a new one of browser b (crashes watched).
func nextTab(t *testing.T, b *browsertest.Browser, tab *browsertest.Tab) *browsertest.Tab {
	t.Helper()
	tab.Close()
	next := b.NewTab()
	watchCrash(t, next)
	return next
}
