//go:build !js && browser

package jsbridge_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// TestBrowserWasmCodeCache: on Chromium a later page load reads V8's code
// cache of larder.wasm, which the first visit's compile wrote. It did not,
// silently, while the client handed compileStreaming a Response of its own
// (a progress counter): such a Response has no cache handle, so every visit
// compiled the module anew and each SQLite function again on first call
// (docs/startup.md, "One fetch, one compile"). The cache is not observable
// from a page; a Chrome trace of the load shows Blink's
// v8.wasm.moduleCacheHit. Chromium only: V8's cache.
func TestBrowserWasmCodeCache(t *testing.T) {
	e := newEnv(t)
	// The first visit compiles without a cache and stays open: V8 writes
	// the cache from it as its functions get optimised.
	e.run(e.tab, "const db = "+openJS("cc", "auto", "[]")+`; await db.query("SELECT 1"); return 1`, nil)
	var got []string
	for deadline := time.Now().Add(3 * time.Minute); ; {
		tab := e.b.NewTab()
		events := traceDuring(t, tab.Context(), func() {
			if err := tab.Navigate(e.srv.URL + "/index.html"); err != nil {
				t.Fatal(err)
			}
			e.waitReady(tab)
			e.run(tab, "const db = "+openJS("cc", "auto", "[]")+`; await db.query("SELECT 1"); return 1`, nil)
		})
		tab.Close()
		got = got[:0]
		for _, ev := range events {
			if strings.HasPrefix(ev.Name, "v8.wasm.") {
				got = append(got, ev.Name)
			}
			if ev.Name == "v8.wasm.moduleCacheHit" && strings.HasSuffix(ev.Args.URL, "/dist/larder.wasm") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no later page load read V8's code cache of larder.wasm; the last one's wasm trace events: %v", got)
		}
		time.Sleep(time.Second) // the first visit's tier-up goes on; then load again
	}
}

// traceEvent is the part of a Chrome trace event the test reads.
type traceEvent struct {
	Name string `json:"name"`
	Args struct {
		URL string `json:"url"`
	} `json:"args"`
}

// traceDuring records a Chrome trace (Blink's and V8's wasm categories) of
// what fn does in the tab of ctx.
func traceDuring(t *testing.T, ctx context.Context, fn func()) []traceEvent {
	t.Helper()
	stop, err := browsertest.StartTrace(ctx, []string{"disabled-by-default-devtools.timeline", "v8.wasm"})
	if err != nil {
		t.Fatal(err)
	}
	fn()
	raw, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	events := make([]traceEvent, 0, len(raw))
	for _, r := range raw {
		var te traceEvent
		if json.Unmarshal(r, &te) == nil {
			events = append(events, te)
		}
	}
	return events
}
