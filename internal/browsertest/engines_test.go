//go:build !js && browser

package browsertest

import (
	"strings"
	"testing"
	"time"
)

// TestDrivers: each engine's driver navigates, evaluates (awaiting
// Promises, reporting rejections), opens and closes tabs, reloads, and
// reports console errors.
func TestDrivers(t *testing.T) {
	for _, engine := range TestEngines() {
		t.Run(engine, func(t *testing.T) {
			t0 := time.Now()
			s := Serve(t)
			s.SetFile("/index.html", []byte(`<!doctype html><meta charset="utf-8">`+ErrorHook+`<script>window.loads = (Number(sessionStorage.n) || 0) + 1; sessionStorage.n = window.loads;</script>`))
			b := Launch(t, engine)
			tab := b.NewTab()
			if err := tab.Navigate(s.URL + "/index.html"); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := tab.Eval(`new Promise((r) => setTimeout(() => r(40 + 2), 10))`, &n); err != nil || n != 42 {
				t.Fatalf("eval of a Promise: %d, %v", n, err)
			}
			var obj map[string]any
			if err := tab.Eval(`({ a: [1, "x", null], b: true })`, &obj); err != nil || len(obj) != 2 {
				t.Fatalf("eval of an object: %v, %v", obj, err)
			}
			if err := tab.Eval(`undefined`, &obj); err != nil {
				t.Fatalf("eval of undefined: %v", err)
			}
			err := tab.Eval(`Promise.reject(new Error("boom"))`, nil)
			if err == nil || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("a rejection: %v", err)
			}
			if err := tab.Eval(`console.error("seen " + "here"), 1`, nil); err != nil {
				t.Fatal(err)
			}
			errs := waitFor(t, func() []string { return tab.Errors() })
			if !strings.Contains(strings.Join(errs, "\n"), "seen here") {
				t.Errorf("console errors: %q", errs)
			}
			if err := tab.Reload(); err != nil {
				t.Fatal(err)
			}
			if err := tab.Eval(`window.loads`, &n); err != nil || n != 2 {
				t.Errorf("after reload: loads %d, %v", n, err)
			}
			other := b.NewTab()
			if err := other.Navigate(s.URL + "/index.html"); err != nil {
				t.Fatal(err)
			}
			if err := other.Eval(`window.loads`, &n); err != nil || n != 1 {
				t.Errorf("second tab: loads %d, %v", n, err)
			}
			// Both tabs run scripts at once.
			done := make(chan error, 1)
			go func() { done <- other.Eval(`new Promise((r) => setTimeout(r, 300))`, nil) }()
			if err := tab.Eval(`1`, &n); err != nil {
				t.Error(err)
			}
			if err := <-done; err != nil {
				t.Error(err)
			}
			other.Close()
			if err := tab.Eval(`document.readyState`, nil); err != nil {
				t.Errorf("first tab after closing the second: %v", err)
			}
			t.Logf("%s: driver test in %v", engine, time.Since(t0).Round(time.Millisecond))
		})
	}
}

func waitFor(t *testing.T, f func() []string) []string {
	for i := 0; i < 50; i++ {
		if v := f(); len(v) > 0 {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	return f()
}
