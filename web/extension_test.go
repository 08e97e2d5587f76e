//go:build !js && browser

package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/migrations"
)

// assembleExtension lays out the extension for "Load unpacked" the way
// `make extension` does: web/extension's files, the runtime under larder/,
// and the bundle of its migrations as migrations.json.
func assembleExtension(t *testing.T, dist string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "extension")
	if err := os.MkdirAll(filepath.Join(dir, "larder"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir("extension")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".json" || ext == ".js" || ext == ".html" || ext == ".css") {
			copyFile(filepath.Join("extension", e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	for _, f := range []string{"larder.js", "larder-worker.js", "wasm_exec.js", "larder.wasm"} {
		copyFile(filepath.Join(dist, f), filepath.Join(dir, "larder", f))
	}
	// The modules larder.js and larder-worker.js import.
	modules, err := filepath.Glob(filepath.Join(dist, "client", "*.js"))
	if err != nil || len(modules) == 0 {
		t.Fatalf("no %s: run make build: %v", filepath.Join(dist, "client", "*.js"), err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "larder", "client"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range modules {
		copyFile(m, filepath.Join(dir, "larder", "client", filepath.Base(m)))
	}
	migs, err := migrations.Load(os.DirFS("extension/migrations"), ".")
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := migrations.Bundle(migs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "migrations.json"), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// extensionBrowser starts Chromium with the extension loaded. Extensions
// need the new headless mode (--headless=new).
func extensionBrowser(t *testing.T, ext string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browsertest.Chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("load-extension", ext),
		chromedp.Flag("disable-extensions-except", ext),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	for _, f := range browsertest.Flags {
		if f != "headless" {
			opts = append(opts, chromedp.Flag(f, true))
		}
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium with the extension: %v", err)
	}
	return ctx
}

// backgroundWorker waits for the extension's service worker target and
// returns the extension's origin (chrome-extension://ID).
func backgroundWorker(t *testing.T, ctx context.Context) string {
	t.Helper()
	deadline := time.Now().Add(step)
	for {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range targets {
			if ti.Type == "service_worker" && strings.HasPrefix(ti.URL, "chrome-extension://") && strings.HasSuffix(ti.URL, "/background.js") {
				return strings.TrimSuffix(ti.URL, "/background.js")
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the extension's background worker did not start; targets: %v", targetURLs(targets))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func targetURLs(ts []*target.Info) []string {
	var out []string
	for _, ti := range ts {
		out = append(out, ti.Type+" "+ti.URL)
	}
	return out
}

// popupEval evaluates JS in the popup page, awaiting a Promise.
func popupEval(t *testing.T, popup context.Context, expr string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(popup, step)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v: %s", expr, err, raw)
		}
	}
}

func popupDo(t *testing.T, popup context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(popup, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

type extStatus struct {
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	Instance   string `json:"instance"`
	Storage    string `json:"storage"`
	Version    int64  `json:"version"`
	Items      int64  `json:"items"`
	Migrations []struct {
		Version   int64  `json:"version"`
		AppliedAt string `json:"appliedAt"`
	} `json:"migrations"`
}

// TestExtension loads the MV3 extension, saves pages through its
// background service worker (Larder on IndexedDB, in-process) with the
// popup's button and with messages, stops the worker, and finds the pages
// again from the restarted worker.
func TestExtension(t *testing.T) {
	ext := assembleExtension(t, browsertest.Dist(t))
	browser := extensionBrowser(t, ext)
	origin := backgroundWorker(t, browser)

	popup, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(popup); err != nil { // opens the tab; later steps have deadlines
		t.Fatal(err)
	}
	popupDo(t, popup, "open the popup", chromedp.Navigate(origin+"/popup.html"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "true" || document.getElementById("status").textContent.startsWith("Error")`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))
	var statusText string
	popupEval(t, popup, `document.getElementById("status").textContent`, &statusText)
	if statusText != "Nothing saved yet." {
		t.Fatalf("popup on a new profile says %q", statusText)
	}

	// "Save this tab", clicked in the popup: here the active tab is the one
	// showing the popup page itself.
	popupDo(t, popup, "save this tab", chromedp.Click(chromedp.CSS("#save")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#items li").length === 1`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))

	var before extStatus
	popupEval(t, popup, `chrome.runtime.sendMessage({ type: "status" })`, &before)
	if !before.OK || before.Storage != "idb" || before.Version != 2 || len(before.Migrations) != 2 {
		t.Fatalf("background status %+v, want idb, version 2, two migrations", before)
	}

	for _, page := range []struct{ url, title string }{
		{"https://example.com/sqlite-wasm", "SQLite in the browser"},
		{"https://example.org/mv3", "Manifest V3 service workers"},
	} {
		var res struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		popupEval(t, popup, fmt.Sprintf(`chrome.runtime.sendMessage({ type: "save", url: %q, title: %q })`, page.url, page.title), &res)
		if !res.OK {
			t.Fatalf("save %s: %s", page.url, res.Error)
		}
	}

	// Stop the background worker, as Chrome does after 30 s idle.
	popupDo(t, popup, "stop the service worker", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, serviceworker.StopAllWorkers, cdp.Empty{})
		return err
	}))

	// The next message starts it again: a new instance, the same items, no
	// migration applied twice.
	var after extStatus
	popupEval(t, popup, `chrome.runtime.sendMessage({ type: "status" })`, &after)
	if !after.OK {
		t.Fatalf("status after restart: %s", after.Error)
	}
	if after.Instance == before.Instance {
		t.Fatalf("the background worker was not restarted (instance %s)", after.Instance)
	}
	if after.Items != 3 || after.Version != 2 {
		t.Errorf("after restart: %d items at version %d, want 3 at 2", after.Items, after.Version)
	}
	for i := range after.Migrations {
		if after.Migrations[i].AppliedAt != before.Migrations[i].AppliedAt {
			t.Errorf("migration %d re-applied: %s, then %s", after.Migrations[i].Version, before.Migrations[i].AppliedAt, after.Migrations[i].AppliedAt)
		}
	}

	// The popup, reopened, lists them and searches them.
	popupDo(t, popup, "reopen the popup", chromedp.Reload(),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "true"`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))
	var titles []string
	popupEval(t, popup, `[...document.querySelectorAll("#items strong")].map(e => e.textContent)`, &titles)
	if !slices.Equal(titles, []string{"Manifest V3 service workers", "SQLite in the browser", "Reading list"}) {
		t.Errorf("popup lists %v", titles)
	}
	popupDo(t, popup, "search", chromedp.SendKeys(chromedp.CSS("#search"), "sqlite"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#items li").length === 1`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))
	popupEval(t, popup, `[...document.querySelectorAll("#items strong")].map(e => e.textContent)`, &titles)
	if !slices.Equal(titles, []string{"SQLite in the browser"}) {
		t.Errorf("search sqlite: %v", titles)
	}
}
