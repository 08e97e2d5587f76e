//go:build !js

package main

// The demo app's own start-up (issue 22): the notes app of web/, served
// as `make run` serves it (internal/site: gzip/brotli, validators, its
// service worker), timed from navigation until the notes UI is ready. The
// app marks that moment with performance.mark("larder:demo-ready") beside
// document.body.dataset.ready = "true" (web/app.js); the figure is the
// mark's startTime, i.e. milliseconds since the navigation began.
//
// One run, in a browser started with a fresh profile (every engine through
// internal/browsertest's launcher):
//
//	demo-first:  the first visit (empty caches, no storage, no service worker)
//	demo-reload: after the first visit's tab stayed open -demo-hold, a reload of it
//	demo-newtab: that tab closed, a new tab opened at once on the app

import (
	"fmt"
	"log"
	"regexp"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// demoHold is how long the first visit's tab stays open before the reload:
// Larder's warm-up runs then, and V8 writes its code cache.
var demoHold = 8 * time.Second

// demoReady waits for the notes UI and returns the demo's ready mark.
const demoReady = `new Promise((resolve, reject) => {
  const t0 = Date.now();
  const poll = () => {
    if (document.body && document.body.dataset.ready === "true") {
      const m = performance.getEntriesByName("larder:demo-ready");
      if (m.length) return resolve(m[m.length - 1].startTime);
      return reject(new Error("the demo is ready but set no larder:demo-ready mark (web/app.js)"));
    }
    const fail = document.querySelector("#loading.failed");
    if (fail) return reject(new Error("the demo failed to open: " + fail.textContent));
    if (Date.now() - t0 > 120000) return reject(new Error("the demo was not ready within 120 s"));
    setTimeout(poll, 10);
  };
  poll();
})`

func measureDemo(engine string, srv *server, res *results, sel *regexp.Regexp, runs int, timeout time.Duration) error {
	c, _ := configOf("larder", "demo")
	var ws []workload
	for _, w := range workloads {
		if w.Demo && selected(sel, w, c.key()) {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return nil
	}
	cells := map[string]*cell{}
	for _, w := range workloads {
		if w.Demo {
			cells[w.ID] = res.reset(engine, w, c)
		}
	}
	if srv.demo == "" {
		for _, cl := range cells {
			cl.Error = "the demo app could not be served"
		}
		return nil
	}
	for i := 0; i < runs; i++ {
		got, err := demoRun(engine, srv.demo+"/", timeout)
		for _, w := range workloads {
			if !w.Demo {
				continue
			}
			cl := cells[w.ID]
			if ms, ok := got[w.ID]; ok {
				cl.MS = append(cl.MS, ms)
				cl.Memory = append(cl.Memory, -1)
				log.Printf("%-8s %-12s %-26s run %d: %9.1f ms", engine, w.ID, c.key(), i+1, ms)
			} else if err != nil {
				cl.Error = firstLine(err.Error())
				log.Printf("%-8s %-12s %-26s run %d: error: %s", engine, w.ID, c.key(), i+1, cl.Error)
			}
		}
	}
	return nil
}

// demoRun is one run of the three demo figures in a fresh browser.
func demoRun(engine, url string, timeout time.Duration) (map[string]float64, error) {
	got := map[string]float64{}
	b, err := browsertest.Start(engine)
	if err != nil {
		return got, err
	}
	defer b.Close()
	// A blank tab stays open: closing a WebDriver session's last window
	// ends the session.
	if _, err := b.OpenTab(); err != nil {
		return got, err
	}
	ready := func(tab *browsertest.Tab, id string, load func() error) error {
		if err := load(); err != nil {
			return fmt.Errorf("%s: %w", id, withPageErrors(err, tab))
		}
		var ms float64
		if err := tab.EvalTimeout(timeout, demoReady, &ms); err != nil {
			return fmt.Errorf("%s: %w", id, withPageErrors(err, tab))
		}
		got[id] = ms
		return nil
	}
	tab, err := b.OpenTab()
	if err != nil {
		return got, err
	}
	if err := ready(tab, "demo-first", func() error { return tab.NavigateTimeout(timeout, url) }); err != nil {
		tab.Close()
		return got, err
	}
	time.Sleep(demoHold)
	if err := ready(tab, "demo-reload", func() error { return tab.ReloadTimeout(timeout) }); err != nil {
		tab.Close()
		return got, err
	}
	time.Sleep(time.Second) // a user reads, then closes the tab and opens another
	tab.Close()
	next, err := b.OpenTab()
	if err != nil {
		return got, err
	}
	defer next.Close()
	return got, ready(next, "demo-newtab", func() error { return next.NavigateTimeout(timeout, url) })
}
