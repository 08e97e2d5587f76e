//go:build !js

package main

// Engines. Chromium is driven over the DevTools protocol (browser.go):
// it can clear one origin's storage and the HTTP and code caches, and read
// a worker's wasm memory. Firefox ESR and WebKitGTK are driven through
// internal/browsertest's launchers (WebDriver BiDi, W3C WebDriver), which
// have neither: their storage is cleared from a page of the origin
// (bench/web/clear.html), and their caches by starting the browser again
// with a fresh profile.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// engine runs the bare-page workloads in one browser.
type engine interface {
	name() string
	version() string
	// evalPage opens url in a new tab, evaluates expr (a Promise) and
	// decodes its JSON value into out; with finish set, it then reads the
	// workers' wasm memory (probe, where the engine can) and evaluates
	// finish. The tab is closed when it returns.
	evalPage(url, expr, finish string, probe bool, timeout time.Duration, out any) (mem int64, err error)
	clearOrigin(origin string) error
	clearCache() error
	close()
}

func (c *chromium) name() string    { return "chromium" }
func (c *chromium) version() string { return c.Version }

func startEngine(name, chromiumPath string) (engine, error) {
	if name == "chromium" {
		return startChromium(chromiumPath)
	}
	d := &driven{engine: name}
	if err := d.restart(); err != nil {
		return nil, err
	}
	d.ver = engineVersion(name)
	return d, nil
}

// driven is Firefox or WebKit through internal/browsertest.
type driven struct {
	engine string
	ver    string
	b      *browsertest.Browser
	// keep is a blank tab left open: closing a WebDriver session's last
	// window ends the session.
	keep *browsertest.Tab
}

func (d *driven) name() string    { return d.engine }
func (d *driven) version() string { return d.ver }

func (d *driven) restart() error {
	if d.b != nil {
		d.b.Close()
		d.b = nil
	}
	b, err := browsertest.Start(d.engine)
	if err != nil {
		return err
	}
	d.b = b
	if d.keep, err = b.OpenTab(); err != nil {
		return err
	}
	return nil
}

func (d *driven) close() {
	if d.b != nil {
		d.b.Close()
	}
}

// clearCache starts the browser again with a fresh profile: empty HTTP
// cache, no compiled code, no storage.
func (d *driven) clearCache() error { return d.restart() }

// clearOrigin deletes the origin's OPFS entries, IndexedDB databases and
// local storage from a page of that origin.
func (d *driven) clearOrigin(origin string) error {
	var out any
	_, err := d.evalPage(origin+"/bench/web/clear.html", "window.clearStorage()", "", false, time.Minute, &out)
	if err != nil {
		return fmt.Errorf("clear storage of %s: %w", origin, err)
	}
	return nil
}

func (d *driven) evalPage(url, expr, finish string, probe bool, timeout time.Duration, out any) (int64, error) {
	tab, err := d.b.OpenTab()
	if err != nil {
		return -1, err
	}
	defer tab.Close()
	deadline := time.Now().Add(timeout)
	left := func() time.Duration { return max(time.Until(deadline), time.Second) }
	if err := tab.NavigateTimeout(left(), url); err != nil {
		return -1, withPageErrors(err, tab)
	}
	var raw json.RawMessage
	if err := tab.EvalTimeout(left(), waitBench(expr), &raw); err != nil {
		return -1, withPageErrors(err, tab)
	}
	if finish != "" {
		if err := tab.EvalTimeout(time.Minute, waitBench(finish), nil); err != nil {
			return -1, withPageErrors(err, tab)
		}
	}
	if len(raw) == 0 {
		return -1, errors.New("no value")
	}
	return -1, json.Unmarshal(raw, out)
}

// waitBench waits for the page's module to set window.bench (or
// window.clearStorage), then evaluates expr.
func waitBench(expr string) string {
	return `(async () => {
  const t0 = performance.now();
  while (!window.bench && !window.clearStorage) {
    if (performance.now() - t0 > 30000) throw new Error("bench.js did not load");
    await new Promise((r) => setTimeout(r, 5));
  }
  return await (` + expr + `);
})()`
}

func withPageErrors(err error, tab *browsertest.Tab) error {
	if errs := tab.Errors(); len(errs) > 0 {
		if len(errs) > 3 {
			errs = errs[:3]
		}
		return fmt.Errorf("%w (page: %s)", err, strings.Join(errs, " | "))
	}
	return err
}

// engineVersion names the installed browser of engine.
func engineVersion(engine string) string {
	switch engine {
	case "firefox":
		if p, err := browsertest.FindFirefox(); err == nil {
			if out, err := exec.Command(p, "--version").Output(); err == nil {
				return strings.TrimSpace(string(out))
			}
		}
	case "webkit":
		if _, mb, err := browsertest.FindWebKit(); err == nil {
			if out, err := exec.Command("dpkg", "-S", mb).Output(); err == nil {
				pkg, _, _ := strings.Cut(string(out), ":")
				if v, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output(); err == nil {
					return "WebKitGTK " + string(v) + " (" + pkg + ", MiniBrowser " + filepath.Base(filepath.Dir(mb)) + ")"
				}
			}
		}
	}
	return engine
}
