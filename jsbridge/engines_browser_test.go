//go:build !js && browser

package jsbridge_test

import (
	"strings"
	"testing"
)

// TestBrowserEngineStorage: on every engine, "auto" lands where it should
// and says why. Where OPFS works (Chromium, Firefox) "auto" is OPFS with no
// fallback. Where it does not (WebKitGTK: createSyncAccessHandle throws
// NotSupportedError, see docs/browsers.md) "auto" is IndexedDB and
// db.storageFallback names that error, and an explicit "opfs" rejects with
// LARDER_STORAGE_UNAVAILABLE naming it: the documented error, not a skip.
// The warm-up runs only on V8 (Chromium); elsewhere it reports "off".
func TestBrowserEngineStorage(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		e.t = t
		var got struct {
			Storage  string
			Fallback *string
			Warmup   *struct{ State string }
			UA       string
		}
		// The warm-up's first report (after its claim): "running" where it
		// runs, "off" where it does not.
		e.run(e.tab, `
const db = await L.open({ name: "auto", migrations: [{ version: 1, name: "t", up: "CREATE TABLE t(x)" }] });
await db.exec("INSERT INTO t VALUES (1)");
const rt = [...L.__runtimes()][0];
while (!rt.warmup || rt.warmup.state === "claiming") await new Promise((r) => setTimeout(r, 20));
const warmup = rt.warmup;
return { storage: db.storage, fallback: db.storageFallback, warmup, ua: navigator.userAgent };`, &got)
		t.Logf("%s: auto → %s (fallback %v), warm-up %v; %s", e.engine, got.Storage, str(got.Fallback), got.Warmup, got.UA)
		wantWarm := "off"
		if e.engine == "chromium" {
			wantWarm = "running" // (or done, on a fast machine)
		}
		if got.Warmup == nil || (got.Warmup.State != wantWarm && !(wantWarm == "running" && got.Warmup.State == "done")) {
			t.Errorf("warm-up %v, want %s", got.Warmup, wantWarm)
		}
		if e.opfsWorks() {
			if got.Storage != "opfs" || got.Fallback != nil {
				t.Errorf("auto: %s (fallback %v), want opfs without fallback", got.Storage, str(got.Fallback))
			}
			e.noErrors(e.tab)
			return
		}
		if got.Storage != "idb" || got.Fallback == nil {
			t.Errorf("auto: %s (fallback %v), want idb with the reason OPFS failed", got.Storage, str(got.Fallback))
		}
		jerr := e.mustFail(e.tab, `await L.open({ name: "explicit", storage: "opfs" })`, "LARDER_STORAGE_UNAVAILABLE")
		t.Logf("explicit opfs: %s", jerr.Message)
		if got.Fallback != nil && !strings.Contains(jerr.Message, strings.SplitN(*got.Fallback, " (at ", 2)[0]) {
			t.Errorf("explicit opfs: %q does not name the error auto fell back on (%q)", jerr.Message, *got.Fallback)
		}
		if strings.Contains(jerr.Message, "InvalidStateError") {
			t.Errorf("explicit opfs: %q reports a retry's error, not the first", jerr.Message)
		}
		e.noErrors(e.tab)
	})
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}
