//go:build !js && browser

package web

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/chromedp"

	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/internal/site"
)

// step is the deadline of one person-sized step in a browser test: a guard
// against a hang, never an assertion about speed.
const step = 90 * time.Second

// demoServer is `larder serve` (package internal/site) on a free port, with
// the embedded app shell and dist/ from disk, as `make run` serves it.
type demoServer struct {
	URL  string
	srv  *http.Server
	addr string
	h    http.Handler

	mu  sync.Mutex
	log []served // every response, in order
}

// served is one response the demo server sent.
type served struct {
	path   string
	status int
	bytes  int
}

// recorder notes the status and body size of a response.
type recorder struct {
	http.ResponseWriter
	status, bytes int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (d *demoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	d.mu.Lock()
	h := d.h
	d.mu.Unlock()
	h.ServeHTTP(rec, r)
	d.mu.Lock()
	d.log = append(d.log, served{r.URL.Path, rec.status, rec.bytes})
	d.mu.Unlock()
}

// deploy replaces what the server serves, as a new release of the app does.
func (d *demoServer) deploy(h http.Handler) {
	d.mu.Lock()
	d.h = h
	d.mu.Unlock()
}

// mark and since select the responses sent after a point of the test.
func (d *demoServer) mark() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.log)
}

func (d *demoServer) since(mark int) []served {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]served(nil), d.log[mark:]...)
}

func startDemo(t *testing.T) *demoServer {
	t.Helper()
	dist := browsertest.Dist(t)
	if _, err := os.Stat(filepath.Join(dist, "larder-fts5.wasm")); err != nil {
		t.Fatalf("%s: the demo needs the FTS5 build: run `make build EXT=fts5` (make run and make test do): %v", dist, err)
	}
	h, err := site.New(site.Config{App: App(), Dist: os.DirFS(dist), Migrations: Migrations()})
	if err != nil {
		t.Fatal(err)
	}
	d := &demoServer{h: h}
	d.listen(t, "127.0.0.1:0")
	return d
}

func (d *demoServer) listen(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	d.addr = ln.Addr().String()
	d.URL = "http://" + d.addr + "/"
	d.srv = &http.Server{Handler: d}
	go d.srv.Serve(ln)
	t.Cleanup(func() { d.srv.Close() })
}

// stop takes the server down, as when the laptop goes offline.
func (d *demoServer) stop() { d.srv.Close() }

// crashed holds the tabs whose renderer crashed (watchCrash).
var crashed sync.Map // *browsertest.Tab → true

// watchCrash makes a failing step of tab say that its renderer crashed
// (Inspector.targetCrashed), instead of timing out on a tab that answers
// nothing. Chromium 156 crashes the renderer now and then when a page
// with a Larder worker navigates in the same tab (a SIGSEGV in the old
// page's worker: docs/sync.md#the-demo).
func watchCrash(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	err := chromedp.Listen(tab.Context(), func(ev any) {
		if _, ok := ev.(*inspector.EventTargetCrashed); ok {
			crashed.Store(tab, true)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// crashNote is what a failed step adds when tab's renderer crashed.
func crashNote(tab *browsertest.Tab) string {
	if _, ok := crashed.Load(tab); ok {
		return "\nthe tab's renderer crashed (Inspector.targetCrashed): Chromium's crash dumps are in ~/.config/chromium/Crash Reports/pending"
	}
	return ""
}

// run runs chromedp actions on a tab with the step deadline.
func run(t *testing.T, tab *browsertest.Tab, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\nconsole:\n%s%s", what, err, strings.Join(tab.Logs(), "\n"), crashNote(tab))
	}
}

// eval evaluates JS (awaiting a Promise) with the step deadline.
func eval(t *testing.T, tab *browsertest.Tab, expr string, out any) {
	t.Helper()
	if err := tab.EvalTimeout(step, expr, out); err != nil {
		t.Fatalf("%s: %v\nconsole:\n%s%s", expr, err, strings.Join(tab.Logs(), "\n"), crashNote(tab))
	}
}

// waitFor polls a JS condition until it is true, with the step deadline:
// the page updates asynchronously after each click.
func waitFor(t *testing.T, tab *browsertest.Tab, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), step)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))
	if err != nil {
		var page string
		tab.EvalTimeout(5*time.Second, `document.body.innerText.slice(0, 800)`, &page)
		t.Fatalf("waiting for %s: %v\npage:\n%s\nconsole:\n%s%s", what, err, page, strings.Join(tab.Logs(), "\n"), crashNote(tab))
	}
}

// screenshotDir is where screenshots go: $LARDER_SCREENSHOTS (the docs/
// images are made with LARDER_SCREENSHOTS=$PWD/docs), else a temp dir.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("LARDER_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "larder-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func noErrors(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
