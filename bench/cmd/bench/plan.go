//go:build !js

package main

import "regexp"

// A config is one system on one storage backend.
type config struct {
	System  string // "larder", "sqlite-wasm", "wa-sqlite", "pglite"
	Backend string // as the system names it ("opfs", "ahp", "idb", "memory", ...)
	Class   string // "memory", "opfs" or "idb": the column the ratios compare within
	Label   string // what a reader recognises
	// Isolated pages are served with COOP/COEP (cross-origin isolation),
	// which the official build's "opfs" VFS needs for SharedArrayBuffer.
	Isolated bool
}

func (c config) key() string { return c.System + "/" + c.Backend }

var configs = []config{
	{System: "larder", Backend: "memory", Class: "memory", Label: "Larder memory"},
	{System: "larder", Backend: "opfs", Class: "opfs", Label: "Larder OPFS"},
	{System: "larder", Backend: "idb", Class: "idb", Label: "Larder IndexedDB"},
	{System: "sqlite-wasm", Backend: "memory", Class: "memory", Label: "sqlite-wasm :memory:"},
	{System: "sqlite-wasm", Backend: "opfs", Class: "opfs", Label: "sqlite-wasm opfs", Isolated: true},
	{System: "sqlite-wasm", Backend: "opfs-sahpool", Class: "opfs", Label: "sqlite-wasm opfs-sahpool"},
	{System: "wa-sqlite", Backend: "memory", Class: "memory", Label: "wa-sqlite :memory:"},
	{System: "wa-sqlite", Backend: "ahp", Class: "opfs", Label: "wa-sqlite AccessHandlePool"},
	{System: "wa-sqlite", Backend: "idb", Class: "idb", Label: "wa-sqlite IDBBatchAtomic"},
	{System: "pglite", Backend: "memory", Class: "memory", Label: "PGlite memory"},
	{System: "pglite", Backend: "idb", Class: "idb", Label: "PGlite idb"},
	// The demo app (web/) as `make run` serves it: only the demo workloads.
	{System: "larder", Backend: "demo", Class: "demo", Label: "Larder demo app"},
}

// A workload is one timed figure. JS names the function in bench/web/bench.js.
type workload struct {
	ID    string
	JS    string
	Title string
	// Setup runs the JS workload's setup phase on an earlier page load, so
	// that the timed page load finds persistent state (a migrated database,
	// a 20 MB database).
	Setup bool
	// ColdCache clears the browser's HTTP and code caches before the timed
	// page load.
	ColdCache bool
	// PersistentOnly workloads make no sense on memory backends.
	PersistentOnly bool
	// Throttled pages load over the throttled link (throttle.go).
	Throttled bool
	// Demo workloads time the demo app's start-up (demo.go).
	Demo bool
	// Core workloads are those a plain `make bench` measures on every
	// engine; the others run with -all or when -only names them.
	Core bool
}

var workloads = []workload{
	{ID: "start-cold", JS: "start", Title: "Cold start: empty HTTP/code cache, fresh db, 10 migrations", ColdCache: true},
	{ID: "first-visit", JS: "first-visit", Title: "First visit over 20 Mbit/s, 40 ms RTT (gzip): navigation to open + first query, an origin never visited, 10 migrations", ColdCache: true, Throttled: true, PersistentOnly: true, Core: true},
	{ID: "start-fresh", JS: "start", Title: "Start: warm HTTP and code caches, fresh db, 10 migrations"},
	{ID: "start-warm", JS: "start", Title: "Warm start: warm HTTP and code caches, db already migrated", Setup: true, PersistentOnly: true, Core: true},
	{ID: "insert-1k", JS: "insert-1k", Title: "1,000 autocommit single-row inserts"},
	{ID: "tx-10k", JS: "tx-10k", Title: "10,000 inserts in one transaction"},
	{ID: "select-10k", JS: "select-10k", Title: "10,000 point selects by primary key from the page"},
	{ID: "scan-100k", JS: "scan-100k", Title: "Aggregate scan over 100,000 rows"},
	{ID: "export-20mb", JS: "export-20mb", Title: "Export of a 20 MB database"},
	{ID: "reopen-20mb", JS: "reopen-20mb", Title: "Open + first query of a 20 MB database after reload", Setup: true, PersistentOnly: true},
	{ID: "demo-first", Title: "Demo app, first visit: navigation to notes UI ready, fresh profile", Demo: true, Core: true},
	{ID: "demo-reload", Title: "Demo app, reload of a returning visit: navigation to notes UI ready", Demo: true, Core: true},
	{ID: "demo-newtab", Title: "Demo app, new tab right after the app's other tab closed: navigation to notes UI ready", Demo: true, Core: true},
}

func (w workload) appliesTo(c config) bool {
	if w.Demo != (c.Class == "demo") {
		return false
	}
	return !(w.PersistentOnly && c.Class == "memory")
}

// skippedOn are figures an engine cannot run, by engine, as a regexp over
// "workload/system/backend", with the reason printed in RESULTS.md.
var skippedOn = map[string][]struct{ re, why string }{
	"webkit": {
		{`/(larder/opfs|sqlite-wasm/opfs|sqlite-wasm/opfs-sahpool|wa-sqlite/ahp)$`, "WebKitGTK has OPFS directories but no sync access handles (createSyncAccessHandle throws NotSupportedError; docs/browsers.md), which every OPFS backend here needs"},
	},
}

// skipReason says why engine does not measure the figure key, or "".
func skipReason(engine, key string) string {
	if why, ok := skipped[key]; ok {
		return why
	}
	for _, s := range skippedOn[engine] {
		if regexp.MustCompile(s.re).MatchString(key) {
			return s.why
		}
	}
	return ""
}

// skipped figures, with the reason printed in RESULTS.md.
var skipped = map[string]string{
	"tx-10k/pglite/idb":            "PGlite syncs its data directory to IndexedDB after every statement, even inside BEGIN…COMMIT (~0.1 s each in insert-1k), so 10,000 awaited statements take about 20 minutes a run",
	"export-20mb/wa-sqlite/memory": "wa-sqlite has no serialize API and a :memory: database has no file to read back",
	"select-10k/pglite/idb":        "PGlite syncs its data directory to IndexedDB after every statement, reads included: a trial run passed the 5-minute page limit",
}
