package site

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/larderdb/larder/web"
)

// Every response, a 404 included, carries the security headers; an app
// shell's CSP allows its own inline script by hash and nothing else inline
// (the demo's shell has none: web/index.html loads app.js only).
func TestServeSecurityHeaders(t *testing.T) {
	demo, err := New(Config{App: web.App(), Dist: Dir(writeDist(t)), Migrations: web.Migrations()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	demo.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "'sha256-") {
		t.Errorf("demo shell without inline script: CSP %q has a script hash", csp)
	}

	const inline = "globalThis.appStarted = 1;"
	app := fstest.MapFS{"index.html": {Data: []byte(`<!doctype html><script>` + inline + `</script><script type="module" src="app.js"></script>`)}}
	h, err := New(Config{App: app, Dist: Dir(writeDist(t)), Migrations: web.Migrations()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	sum := sha256.Sum256([]byte(inline))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	for _, p := range []string{"/", "/dist/larder.js", "/migrations.json", "/nope"} {
		res, _ := get(t, srv.URL+p, nil)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"'wasm-unsafe-eval'", "frame-ancestors 'none'", "object-src 'none'", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", p, csp, want)
			}
		}
		if strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "'unsafe-inline'") {
			t.Errorf("%s: CSP %q allows eval or inline code", p, csp)
		}
		if got := strings.Contains(csp, hash); got != (p == "/") {
			t.Errorf("%s: CSP %q: has the inline script's hash %s: %v", p, csp, hash, got)
		}
		for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", p, k, got, v)
			}
		}
	}
	// A custom policy replaces the default; hashes are still added.
	h, _ = New(Config{App: app, Dist: Dir(writeDist(t)), Migrations: web.Migrations(), CSP: "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'"})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Content-Security-Policy"); got != "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval' "+hash {
		t.Errorf("custom CSP: %q", got)
	}
}

// Dir serves through an os.Root: a symlink or ".." out of the directory
// is 404, a symlink inside it works.
func TestServeNoEscape(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("top secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dist := writeDist(t)
	for name, target := range map[string]string{"x.txt": outside, "passwd.txt": "/etc/passwd", "up": filepath.Dir(outside), "inside.js": "larder.js"} {
		if err := os.Symlink(target, filepath.Join(dist, name)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := New(Config{App: web.App(), Dist: Dir(dist), Migrations: web.Migrations()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dist/x.txt", "/dist/passwd.txt", "/dist/up/secret.txt", "/dist/../secret.txt", "/dist/./../" + filepath.Base(filepath.Dir(outside)) + "/secret.txt"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = p // unclean on purpose: no client would send it, an attacker might
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "root:") {
			t.Errorf("%s: %d %.60q, want 404", p, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/dist/inside.js", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "export const x") {
		t.Errorf("symlink inside dist: %d", rec.Code)
	}
}

// A dist/ created after the server started, and one replaced while it
// runs (rm -rf dist; make build), are picked up.
func TestServeDirLater(t *testing.T) {
	dist := filepath.Join(t.TempDir(), "dist")
	h, err := New(Config{App: web.App(), Dist: Dir(dist), Migrations: web.Migrations()})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/dist/a.js", nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := fetch(); code != http.StatusNotFound {
		t.Errorf("missing dist: %d", code)
	}
	for _, body := range []string{"one", "two"} {
		os.RemoveAll(dist)
		if err := os.MkdirAll(dist, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dist, "a.js"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, got := fetch(); code != http.StatusOK || got != body {
			t.Errorf("dist with %q: %d %q", body, code, got)
		}
	}
}

// AllowHosts answers the bound address, localhost, 127.0.0.1 and [::1]
// on the bound port, and extra names; any other Host (DNS rebinding) 421.
func TestAllowHosts(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	for _, tc := range []struct {
		addr, host string
		extra      []string
		want       int
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080", nil, 200},
		{"127.0.0.1:8080", "localhost:8080", nil, 200},
		{"127.0.0.1:8080", "LOCALHOST:8080", nil, 200},
		{"127.0.0.1:8080", "localhost", nil, 200},
		{"127.0.0.1:8080", "[::1]:8080", nil, 200},
		{"[::1]:8080", "[::1]:8080", nil, 200},
		{"192.168.1.5:8080", "192.168.1.5:8080", nil, 200},
		{"127.0.0.1:8080", "localhost:9090", nil, 421},
		{"127.0.0.1:8080", "evil.example:8080", nil, 421},
		{"127.0.0.1:8080", "evil.example", nil, 421},
		{"127.0.0.1:8080", "127.0.0.1.evil.example:8080", nil, 421},
		{"127.0.0.1:8080", "", nil, 421},
		{"0.0.0.0:8080", "0.0.0.0:8080", nil, 421},
		{"0.0.0.0:8080", "notes.lan:8080", []string{"notes.lan"}, 200},
		{"0.0.0.0:8080", "notes.lan:9999", []string{"notes.lan"}, 421},
		{"0.0.0.0:8080", "proxy.example:443", []string{"proxy.example:443"}, 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = tc.host
		AllowHosts(ok, tc.addr, tc.extra...).ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("bound %s, Host %q (extra %v): %d, want %d", tc.addr, tc.host, tc.extra, rec.Code, tc.want)
		}
		if tc.want == 421 && (rec.Body.String() == "ok" || rec.Header().Get("Content-Security-Policy") == "") {
			t.Errorf("Host %q: refusal %q without headers", tc.host, rec.Body.String())
		}
	}
}
