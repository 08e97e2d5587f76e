//go:build !js

package main

// The Chromium launcher. The browser, its path and its flags are those of
// internal/browsertest (the browser-test harness); that package's Browser and
// Tab are bound to a testing.TB, so the few lines that open a tab and
// evaluate in it live here.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/larderdb/larder/internal/browsertest"
)

type chromium struct {
	ctx     context.Context // the browser; every page is a new tab under it
	cancel  context.CancelFunc
	dir     string
	Version string // "Chrome/156.0.8078.79"
	control context.Context
}

func startChromium(execPath string) (*chromium, error) {
	dir, err := os.MkdirTemp("", "larder-bench-chromium-")
	if err != nil {
		return nil, err
	}
	if execPath == "" {
		if execPath, err = browsertest.FindChromium(); err != nil {
			return nil, err
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Timers and renderers of background tabs must not be throttled
		// while a benchmark waits on them.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(dir),
	}
	for _, f := range browsertest.Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	// An experiment's V8 flags (e.g. LARDER_BENCH_JS_FLAGS=--no-wasm-lazy-compilation):
	// the figures then describe that V8, not the browser users run.
	if js := os.Getenv("LARDER_BENCH_JS_FLAGS"); js != "" {
		opts = append(opts, chromedp.Flag("js-flags", js))
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	c := &chromium{ctx: bctx, dir: dir, control: bctx}
	c.cancel = func() { bcancel(); acancel(); os.RemoveAll(dir) }
	// The first Run starts the browser and its first tab, which stays as
	// the control tab for cache and storage commands.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		c.cancel()
		return nil, fmt.Errorf("bench: start chromium: %w", err)
	}
	v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("bench: chromium version: %w", err)
	}
	c.Version = v.Product
	return c, nil
}

func (c *chromium) close() { c.cancel() }

// clearOrigin deletes every kind of storage of the origin: OPFS, IndexedDB,
// caches, service workers.
func (c *chromium) clearOrigin(origin string) error {
	_, err := chromedp.Call(c.control, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: origin, StorageTypes: "all"})
	return err
}

// clearCache empties the HTTP cache and with it V8's code cache of every
// script and wasm module it held.
func (c *chromium) clearCache() error {
	_, err := chromedp.Call(c.control, network.ClearBrowserCache, cdp.Empty{})
	return err
}

// evalPage opens url in a new tab, waits for the module to set window.bench,
// evaluates expr (a Promise) and decodes its JSON value into out. With
// finish set, it then reads the workers' wasm memory through DevTools (if
// probe is set) and evaluates finish.
// The tab is closed when it returns, so every call is a fresh page load.
func (c *chromium) evalPage(url, expr, finish string, probe bool, timeout time.Duration, out any) (mem int64, err error) {
	mem = -1
	tab, cancel := chromedp.NewContext(c.ctx)
	defer func() { debugf("close tab"); cancel(); debugf("tab closed") }()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		return mem, err
	}
	debugf("tab open")
	var mu sync.Mutex
	var console []string
	cctx, ccancel := context.WithCancel(tab)
	defer ccancel()
	msgs := chromedp.Console(cctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == "error" || m.IsException() {
				mu.Lock()
				console = append(console, m.String())
				mu.Unlock()
			}
		}
	}()
	tctx, tcancel := context.WithTimeout(tab, timeout)
	defer tcancel()
	wrap := func(expr string) string {
		return `(async () => {
  const t0 = performance.now();
  while (!window.bench) {
    if (performance.now() - t0 > 30000) throw new Error("bench.js did not load");
    await new Promise((r) => setTimeout(r, 5));
  }
  return JSON.stringify(await (` + expr + `));
})()`
	}
	stopTrace := startTrace(tctx)
	defer stopTrace()
	err = chromedp.Do(tctx, chromedp.Navigate(url))
	var raw string
	if err == nil {
		raw, err = chromedp.Run(tctx, chromedp.Evaluate[string](wrap(expr), chromedp.EvalAwaitPromise))
	}
	if err == nil && finish != "" {
		if probe {
			debugf("memory probe")
			if m, merr := workerWasmMemory(tctx); merr == nil {
				mem = m
			} else {
				debugf("memory probe: %v", merr)
			}
		}
		debugf("finish")
		fctx, fcancel := context.WithTimeout(tctx, time.Minute)
		_, err = chromedp.Run(fctx, chromedp.Evaluate[string](wrap(finish), chromedp.EvalAwaitPromise))
		fcancel()
	}
	if err != nil {
		mu.Lock()
		defer mu.Unlock()
		if len(console) > 0 {
			return mem, fmt.Errorf("%w (console: %s)", err, strings.Join(console, " | "))
		}
		return mem, err
	}
	return mem, json.Unmarshal([]byte(raw), out)
}

var traceN int

// startTrace records a Chrome trace of the page load into
// $LARDER_BENCH_TRACE.N.json when that is set (an experiment's tool:
// chrome://tracing or Perfetto reads the file).
func startTrace(ctx context.Context) func() {
	base := os.Getenv("LARDER_BENCH_TRACE")
	if base == "" {
		return func() {}
	}
	traceN++
	path := fmt.Sprintf("%s.%d.json", base, traceN)
	cats := strings.Split(cmp.Or(os.Getenv("LARDER_BENCH_TRACE_CATEGORIES"), "v8.wasm,disabled-by-default-v8.wasm.detailed,disabled-by-default-v8.wasm.turbofan,v8,devtools.timeline,blink.user_timing"), ",")
	stop, err := browsertest.StartTrace(ctx, cats)
	if err != nil {
		log.Printf("trace: %v", err)
		return func() {}
	}
	return func() {
		events, err := stop()
		if err != nil {
			log.Printf("trace: %v", err)
			return
		}
		b, err := json.Marshal(map[string]any{"traceEvents": events})
		if err == nil {
			err = os.WriteFile(path, b, 0o644)
		}
		if err != nil {
			log.Printf("trace: %v", err)
			return
		}
		log.Printf("trace: %d events in %s", len(events), path)
	}
}
