//go:build !js

// Package browsertest runs Larder's browser tests: it finds (never
// downloads) Chromium, launches it headless with a fresh profile, serves a
// directory on 127.0.0.1 with the headers a Larder app needs, opens tabs and
// evaluates JavaScript in them (awaiting Promises), and collects console
// errors and uncaught exceptions.
//
// Chromium comes from Debian (`apt-get install -y chromium`, which
// `make test` runs when /usr/bin/chromium is missing). Tests that need it
// call [Chromium], which fails the test — it does not skip — when no browser
// is installed, so a missing browser never passes silently.
//
// The built JS API lives in dist/ (`make build`); [Dist] finds it and fails
// clearly when it is missing.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	goruntime_ "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// ChromiumPaths are the places Chromium is looked for, in order, after the
// LARDER_CHROMIUM environment variable.
var ChromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

// Chromium returns the path of the Chromium binary, or fails the test.
func Chromium(t testing.TB) string {
	t.Helper()
	p, err := FindChromium()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FindChromium returns the path of the Chromium binary.
func FindChromium() (string, error) {
	if p := os.Getenv("LARDER_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, p := range ChromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", errors.New("browsertest: Chromium not found (install it with `apt-get install -y chromium`; `make test` does)")
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := goruntime()
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("browsertest: go.mod not found above " + file)
		}
		dir = parent
	}
}

func goruntime() (uintptr, string, int, bool) { return goruntime_.Caller(0) }

// DistFiles are the files `make build` writes that the browser tests need.
var DistFiles = []string{"larder.js", "larder-worker.js", "larder.wasm", "wasm_exec.js", "larder.d.ts"}

// Dist returns the directory of the built JS API: $LARDER_DIST, else
// dist/ at the repository root. It fails the test when a file is missing,
// telling to run `make build` (the Makefile's test target does).
func Dist(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LARDER_DIST")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "dist")
	}
	for _, f := range DistFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("browsertest: %s is missing: run `make build` first (make test does): %v", filepath.Join(dir, f), err)
		}
	}
	return dir
}

// Server serves directories and in-memory files on 127.0.0.1.
type Server struct {
	URL string // "http://127.0.0.1:PORT"

	mu      sync.Mutex
	mounts  map[string]string // URL prefix ("/dist/") → directory
	files   map[string][]byte // URL path → content
	headers http.Header
	srv     *http.Server
}

// Serve starts a server for the test; it stops when the test ends. Mount
// directories and add files with [Server.Mount] and [Server.SetFile].
// Every response gets Cache-Control: no-cache (revalidate: tests change
// files between loads), the right Content-Type for .js, .mjs, .wasm and
// .json, and the cross-origin isolation headers (COOP same-origin, COEP
// require-corp).
func Serve(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), mounts: map[string]string{}, files: map[string][]byte{}, headers: http.Header{}}
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Mount serves dir under the URL prefix (e.g. "/dist/").
func (s *Server) Mount(prefix, dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[prefix] = dir
}

// SetFile serves content at the URL path p (replacing what was there).
func (s *Server) SetFile(p string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[p] = content
}

// SetHeader adds a header to every response.
func (s *Server) SetHeader(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headers.Set(k, v)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := path.Clean(r.URL.Path)
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Embedder-Policy", "require-corp")
	s.mu.Lock()
	for k, v := range s.headers {
		h[k] = v
	}
	content, ok := s.files[p]
	var dir, rest string
	if !ok {
		for prefix, d := range s.mounts {
			if strings.HasPrefix(p+"/", prefix) && len(prefix) > len(dir) {
				dir, rest = d, strings.TrimPrefix(p, strings.TrimSuffix(prefix, "/"))
			}
		}
	}
	s.mu.Unlock()
	if ct := ContentType(p); ct != "" {
		h.Set("Content-Type", ct)
	}
	if ok {
		http.ServeContent(w, r, p, time.Time{}, strings.NewReader(string(content)))
		return
	}
	if dir == "" {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(rest)))
}

// ContentType is the Content-Type served for a path by extension.
func ContentType(p string) string {
	switch path.Ext(p) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	case ".json":
		return "application/json"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return mime.TypeByExtension(path.Ext(p))
}

// Browser is a headless Chromium with a fresh profile.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc
	t      testing.TB
}

// Flags are the command-line flags the browser is started with (besides
// the fresh --user-data-dir).
var Flags = []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync"}

// NewBrowser launches Chromium for the test; it is closed when the test ends.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	exe := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		// Tabs opened by tests are background tabs: without these, their
		// timers are throttled to once a second and multi-tab tests crawl.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-features", "IntensiveWakeUpThrottling"),
	}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		acancel()
		t.Fatalf("browsertest: start %s: %v", exe, err)
	}
	b := &Browser{ctx: ctx, t: t, cancel: func() { cancel(); acancel() }}
	t.Cleanup(b.cancel)
	return b
}

// Tab is one page.
type Tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	t      testing.TB

	mu     sync.Mutex
	errors []string
	logs   []string
}

// NewTab opens a tab (the first call reuses the browser's initial tab).
func (b *Browser) NewTab() *Tab {
	tab := &Tab{t: b.t}
	listen := func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				} else {
					parts = append(parts, a.Description)
				}
			}
			line := fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " "))
			tab.mu.Lock()
			tab.logs = append(tab.logs, line)
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				tab.errors = append(tab.errors, line)
			}
			tab.mu.Unlock()
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			tab.mu.Lock()
			tab.errors = append(tab.errors, "uncaught: "+msg)
			tab.mu.Unlock()
		}
	}
	tab.ctx, tab.cancel = chromedp.NewContext(b.ctx, chromedp.WithListener(listen))
	if err := chromedp.Do(tab.ctx); err != nil {
		b.t.Fatalf("browsertest: new tab: %v", err)
	}
	return tab
}

// Close closes the tab.
func (tab *Tab) Close() { tab.cancel() }

// Context is the tab's chromedp context, for actions this package lacks.
func (tab *Tab) Context() context.Context { return tab.ctx }

// Navigate loads url and waits for the load event.
func (tab *Tab) Navigate(url string) error {
	return chromedp.Do(tab.ctx, chromedp.Navigate(url))
}

// Reload reloads the page and waits for it to load.
func (tab *Tab) Reload() error {
	return chromedp.Do(tab.ctx, chromedp.Reload())
}

// Eval evaluates a JS expression in the page, awaits it if it is a
// Promise, and unmarshals its JSON value into out (which may be nil). A
// thrown exception or rejection is returned as an error.
func (tab *Tab) Eval(expr string, out any) error {
	return tab.eval(tab.ctx, expr, out)
}

// EvalTimeout is Eval with a deadline.
func (tab *Tab) EvalTimeout(d time.Duration, expr string, out any) error {
	ctx, cancel := context.WithTimeout(tab.ctx, d)
	defer cancel()
	return tab.eval(ctx, expr, out)
}

func (tab *Tab) eval(ctx context.Context, expr string, out any) error {
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Errors returns the console errors and uncaught exceptions seen so far.
func (tab *Tab) Errors() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.errors...)
}

// Logs returns every console message seen so far.
func (tab *Tab) Logs() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.logs...)
}

// OverrideQuota sets the storage quota of origin (e.g. the server's URL) to
// bytes through the DevTools protocol (Storage.overrideQuotaForOrigin);
// bytes < 0 restores the default.
func (tab *Tab) OverrideQuota(origin string, bytes float64) error {
	p := storage.OverrideQuotaForOriginParams{Origin: origin}
	if bytes >= 0 {
		p.QuotaSize = &bytes
	}
	_, err := chromedp.Call(tab.ctx, storage.OverrideQuotaForOrigin, p)
	return err
}
