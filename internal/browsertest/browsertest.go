//go:build !js

// Package browsertest runs Larder's browser tests on three engines: it
// finds (never downloads) Chromium, Firefox ESR and WebKitGTK, launches
// them with a fresh profile, serves a directory on 127.0.0.1 with the
// headers a Larder app needs, opens tabs and evaluates JavaScript in them
// (awaiting Promises), and collects console errors and uncaught exceptions.
//
// One driver per engine, behind one API ([Launch], [Browser.NewTab],
// [Tab.Navigate], [Tab.Eval], [Tab.Reload], [Tab.Close]), so one test body
// runs on all three:
//
//   - "chromium": /usr/bin/chromium, headless, over the DevTools protocol
//     (chromedp, through a pipe).
//   - "firefox": /usr/bin/firefox-esr, headless, over WebDriver BiDi (the
//     W3C protocol Firefox speaks on --remote-debugging-port; see firefox.go).
//   - "webkit": WebKitGTK's MiniBrowser (--automation) through
//     /usr/bin/WebKitWebDriver, W3C WebDriver over HTTP, on an Xvfb display
//     of its own (see webkit.go).
//
// The browsers come from Debian (`apt-get install -y chromium firefox-esr
// webkit2gtk-driver xvfb`, which `make test` runs when one is missing).
// Tests that need one fail — they do not skip — when it is not installed,
// so a missing browser never passes silently.
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

// Engines are the browser engines the tests run on, in this order.
var Engines = []string{"chromium", "firefox", "webkit"}

// TestEngines are the engines the cross-engine tests run on: $LARDER_ENGINES
// (e.g. "chromium firefox") when set, else all of [Engines].
func TestEngines() []string {
	if v := strings.Fields(strings.ReplaceAll(os.Getenv("LARDER_ENGINES"), ",", " ")); len(v) > 0 {
		return v
	}
	return Engines
}

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

// Browser is one browser with a fresh profile, on one engine.
type Browser struct {
	Engine string // "chromium", "firefox" or "webkit"

	t   testing.TB
	tmp *tempDirs // a browser from Start: its directories
	drv driver

	// chromium
	ctx    context.Context
	cancel context.CancelFunc
}

// driver is what one engine's automation protocol does.
type driver interface {
	newTab() (tabDriver, error)
	close()
}

// tabDriver drives one tab.
type tabDriver interface {
	navigate(ctx context.Context, url string) error
	reload(ctx context.Context) error
	// eval evaluates expr, awaits it if it is a Promise and returns its
	// value as JSON (nil for undefined).
	eval(ctx context.Context, expr string) ([]byte, error)
	close() error
}

// Flags are the command-line flags Chromium is started with (besides
// the fresh --user-data-dir).
var Flags = []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync"}

// NewBrowser launches headless Chromium for the test; it is closed when the
// test ends.
func NewBrowser(t testing.TB) *Browser { return Launch(t, "chromium") }

// Launch starts a browser of engine ("chromium", "firefox", "webkit") for
// the test; it is closed when the test ends. A browser that is not
// installed, or does not start, fails the test.
func Launch(t testing.TB, engine string) *Browser {
	t.Helper()
	b := &Browser{Engine: engine, t: t}
	var err error
	switch engine {
	case "chromium":
		err = b.startChromium()
	case "firefox":
		b.drv, err = startFirefox(t)
	case "webkit":
		b.drv, err = startWebKit(t)
	default:
		t.Fatalf("browsertest: unknown engine %q (want one of %s)", engine, strings.Join(Engines, ", "))
	}
	if err != nil {
		t.Fatalf("browsertest: start %s: %v", engine, err)
	}
	t.Cleanup(b.close)
	return b
}

// Start launches a browser of engine outside a test (the benchmark runner
// uses it): the same launcher, flags and fresh profile as [Launch], in a
// temporary directory that [Browser.Close] removes.
func Start(engine string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "larder-browser-")
	if err != nil {
		return nil, err
	}
	tmp := &tempDirs{root: dir}
	b := &Browser{Engine: engine, tmp: tmp}
	switch engine {
	case "chromium":
		err = b.startChromium()
	case "firefox":
		b.drv, err = startFirefox(tmp)
	case "webkit":
		b.drv, err = startWebKit(tmp)
	default:
		err = fmt.Errorf("unknown engine %q (want one of %s)", engine, strings.Join(Engines, ", "))
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("browsertest: start %s: %w", engine, err)
	}
	return b, nil
}

// Close ends a browser started with [Start] and removes its profile.
func (b *Browser) Close() {
	b.close()
	if b.tmp != nil {
		os.RemoveAll(b.tmp.root)
	}
}

// OpenTab is [Browser.NewTab] returning its error instead of failing a
// test (for a browser from [Start]).
func (b *Browser) OpenTab() (*Tab, error) {
	if b.drv == nil {
		tab := b.chromiumTab()
		if err := chromedp.Do(tab.ctx); err != nil {
			tab.cancel()
			return nil, fmt.Errorf("browsertest: new tab: %w", err)
		}
		return tab, nil
	}
	td, err := b.drv.newTab()
	if err != nil {
		return nil, fmt.Errorf("browsertest: %s: new tab: %w", b.Engine, err)
	}
	return b.wrapTab(td), nil
}

// tempDirs hands out fresh directories under root (profiles, HOME) for a
// browser started outside a test.
type tempDirs struct {
	root string
	n    int
}

func (d *tempDirs) TempDir() string {
	d.n++
	p := filepath.Join(d.root, fmt.Sprint(d.n))
	os.MkdirAll(p, 0o700)
	return p
}

func (d *tempDirs) Logf(string, ...any) {}

func (b *Browser) tempDir() string {
	if b.tmp != nil {
		return b.tmp.TempDir()
	}
	return b.t.TempDir()
}

func (b *Browser) close() {
	if b.drv != nil {
		b.drv.close()
	}
	if b.cancel != nil {
		b.cancel()
	}
}

func (b *Browser) startChromium() error {
	exe, err := FindChromium()
	if err != nil {
		return err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(b.tempDir()),
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
		return fmt.Errorf("%s: %w", exe, err)
	}
	b.ctx, b.cancel = ctx, func() { cancel(); acancel() }
	return nil
}

// Tab is one page.
type Tab struct {
	t  testing.TB
	td tabDriver // other engines than chromium

	// chromium
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	errors []string
	logs   []string
}

// NewTab opens a tab (the first call may reuse the browser's initial tab).
func (b *Browser) NewTab() *Tab {
	if b.drv == nil {
		return b.newChromiumTab()
	}
	td, err := b.drv.newTab()
	if err != nil {
		b.t.Fatalf("browsertest: %s: new tab: %v", b.Engine, err)
	}
	return b.wrapTab(td)
}

func (b *Browser) wrapTab(td tabDriver) *Tab {
	tab := &Tab{t: b.t, td: td}
	if l, ok := td.(interface{ attach(*Tab) }); ok {
		l.attach(tab)
	}
	return tab
}

func (b *Browser) newChromiumTab() *Tab {
	tab := b.chromiumTab()
	if err := chromedp.Do(tab.ctx); err != nil {
		b.t.Fatalf("browsertest: new tab: %v", err)
	}
	return tab
}

// chromiumTab makes a Chromium tab's context; the first action opens it.
func (b *Browser) chromiumTab() *Tab {
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
			tab.log(string(ev.Type), strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			tab.uncaught(msg)
		}
	}
	tab.ctx, tab.cancel = chromedp.NewContext(b.ctx, chromedp.WithListener(listen))
	return tab
}

// log records a console message of level (log, warn, error…).
func (tab *Tab) log(level, text string) {
	line := fmt.Sprintf("console.%s: %s", level, text)
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.logs = append(tab.logs, line)
	if level == "error" {
		tab.errors = append(tab.errors, line)
	}
}

// uncaught records an uncaught exception.
func (tab *Tab) uncaught(msg string) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	tab.errors = append(tab.errors, "uncaught: "+msg)
}

// Close closes the tab.
func (tab *Tab) Close() {
	if tab.td != nil {
		tab.td.close()
		return
	}
	tab.cancel()
}

// Context is the tab's chromedp context, for actions this package lacks
// (Chromium only: elsewhere, a context without values).
func (tab *Tab) Context() context.Context {
	if tab.ctx == nil {
		return context.Background()
	}
	return tab.ctx
}

// Navigate loads url and waits for the load event.
func (tab *Tab) Navigate(url string) error {
	if tab.td != nil {
		return tab.td.navigate(context.Background(), url)
	}
	return chromedp.Do(tab.ctx, chromedp.Navigate(url))
}

// NavigateTimeout is Navigate with a deadline.
func (tab *Tab) NavigateTimeout(d time.Duration, url string) error {
	ctx, cancel := context.WithTimeout(tab.Context(), d)
	defer cancel()
	if tab.td != nil {
		return tab.td.navigate(ctx, url)
	}
	return chromedp.Do(ctx, chromedp.Navigate(url))
}

// ReloadTimeout is Reload with a deadline.
func (tab *Tab) ReloadTimeout(d time.Duration) error {
	ctx, cancel := context.WithTimeout(tab.Context(), d)
	defer cancel()
	if tab.td != nil {
		return tab.td.reload(ctx)
	}
	return chromedp.Do(ctx, chromedp.Reload())
}

// Reload reloads the page and waits for it to load.
func (tab *Tab) Reload() error {
	if tab.td != nil {
		return tab.td.reload(context.Background())
	}
	return chromedp.Do(tab.ctx, chromedp.Reload())
}

// Eval evaluates a JS expression in the page, awaits it if it is a
// Promise, and unmarshals its JSON value into out (which may be nil). A
// thrown exception or rejection is returned as an error.
func (tab *Tab) Eval(expr string, out any) error {
	return tab.eval(tab.Context(), expr, out)
}

// EvalTimeout is Eval with a deadline.
func (tab *Tab) EvalTimeout(d time.Duration, expr string, out any) error {
	ctx, cancel := context.WithTimeout(tab.Context(), d)
	defer cancel()
	return tab.eval(ctx, expr, out)
}

func (tab *Tab) eval(ctx context.Context, expr string, out any) error {
	var raw []byte
	var err error
	if tab.td != nil {
		raw, err = tab.td.eval(ctx, expr)
	} else {
		raw, err = chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	}
	if err != nil {
		return err
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Errors returns the console errors and uncaught exceptions seen so far.
// (WebKit: W3C WebDriver has no log API; a page that records its own in
// window.__browsertestErrors — see [ErrorHook] — has them read from there.)
func (tab *Tab) Errors() []string {
	if c, ok := tab.td.(interface{ pageErrors() []string }); ok {
		return c.pageErrors()
	}
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

// ErrorHook is a script for test pages (put it first in <head>): it records
// console.error calls and uncaught errors in window.__browsertestErrors,
// which [Tab.Errors] reads on engines whose protocol reports neither.
const ErrorHook = `<script>
(() => {
  const errs = (window.__browsertestErrors = []);
  const show = (a) => { try { return typeof a === "string" ? a : a instanceof Error ? a.name + ": " + a.message : JSON.stringify(a); } catch { return String(a); } };
  const orig = console.error;
  console.error = function (...args) { errs.push("console.error: " + args.map(show).join(" ")); return orig.apply(this, args); };
  addEventListener("error", (e) => errs.push("uncaught: " + (e.error ? show(e.error) : e.message)));
  addEventListener("unhandledrejection", (e) => errs.push("uncaught: " + show(e.reason)));
})();
</script>`

// OverrideQuota sets the storage quota of origin (e.g. the server's URL) to
// bytes through the DevTools protocol (Storage.overrideQuotaForOrigin);
// bytes < 0 restores the default. Chromium only.
func (tab *Tab) OverrideQuota(origin string, bytes float64) error {
	if tab.ctx == nil {
		return errors.New("browsertest: OverrideQuota needs Chromium's DevTools protocol")
	}
	p := storage.OverrideQuotaForOriginParams{Origin: origin}
	if bytes >= 0 {
		p.QuotaSize = &bytes
	}
	_, err := chromedp.Call(tab.ctx, storage.OverrideQuotaForOrigin, p)
	return err
}
