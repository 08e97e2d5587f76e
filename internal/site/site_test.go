package site

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/web"
)

// fakeWasm is compressible like a real module (repetitive code sections).
var fakeWasm = append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("larder wasm section "), 4096)...)

func newTestSite(t *testing.T, dist string) *httptest.Server {
	t.Helper()
	h, err := New(Config{App: web.App(), Dist: os.DirFS(dist), Migrations: web.Migrations()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func writeDist(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"larder.js":        []byte(strings.Repeat("export const x = 1;\n", 100)),
		"larder-fts5.wasm": fakeWasm,
		"larder.d.ts":      []byte("export declare function open(): Promise<unknown>;\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// get sends a GET with the given headers; the transport's own gzip
// handling is off so that the test sees the raw encoding.
func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestServeContentTypes(t *testing.T) {
	srv := newTestSite(t, writeDist(t))
	for _, tc := range []struct{ path, ctype string }{
		{"/", "text/html; charset=utf-8"},
		{"/index.html", "text/html; charset=utf-8"},
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/sw.js", "text/javascript; charset=utf-8"},
		{"/style.css", "text/css; charset=utf-8"},
		{"/manifest.webmanifest", "application/manifest+json"},
		{"/icon.svg", "image/svg+xml"},
		{"/migrations.json", "application/json"},
		{"/dist/larder.js", "text/javascript; charset=utf-8"},
		{"/dist/larder-fts5.wasm", "application/wasm"},
		{"/dist/larder.d.ts", "text/plain; charset=utf-8"},
	} {
		res, body := get(t, srv.URL+tc.path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s without Accept-Encoding: Content-Encoding %q", tc.path, res.Header.Get("Content-Encoding"))
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty body", tc.path)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", tc.path)
		}
		// No cross-origin isolation headers by default: COOP/COEP break
		// third-party iframes, and Larder does not need them.
		for _, h := range []string{"Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy"} {
			if v := res.Header.Get(h); v != "" {
				t.Errorf("GET %s: %s: %s, want none", tc.path, h, v)
			}
		}
	}
	res, body := get(t, srv.URL+"/dist/larder-fts5.wasm", nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, fakeWasm) {
		t.Errorf("GET wasm: status %d, %d bytes, want the file's %d", res.StatusCode, len(body), len(fakeWasm))
	}
}

func TestServeCompression(t *testing.T) {
	srv := newTestSite(t, writeDist(t))
	decode := map[string]func([]byte) ([]byte, error){
		"gzip": func(b []byte) ([]byte, error) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(zr)
		},
		"br": func(b []byte) ([]byte, error) { return io.ReadAll(brotli.NewReader(bytes.NewReader(b))) },
	}
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "br"}, // Chromium's header
		{"gzip", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0.5", "br"},
		{"gzip;q=0", ""},
		{"identity", ""},
		{"", ""},
	} {
		res, body := get(t, srv.URL+"/dist/larder-fts5.wasm", map[string]string{"Accept-Encoding": tc.accept})
		if got := res.Header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
			continue
		}
		if res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, res.Header.Get("Vary"))
		}
		if res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("Accept-Encoding %q: Content-Length %s for %d bytes", tc.accept, res.Header.Get("Content-Length"), len(body))
		}
		plain := body
		if tc.want != "" {
			if len(body) >= len(fakeWasm)/4 {
				t.Errorf("%s body is %d bytes for %d: not compressed", tc.want, len(body), len(fakeWasm))
			}
			var err error
			if plain, err = decode[tc.want](body); err != nil {
				t.Fatalf("decode %s: %v", tc.want, err)
			}
		}
		if !bytes.Equal(plain, fakeWasm) {
			t.Errorf("Accept-Encoding %q: decoded body differs from the file", tc.accept)
		}
	}

	// The app shell is compressed too, and a tiny or incompressible file is
	// sent as it is.
	res, _ := get(t, srv.URL+"/app.js", map[string]string{"Accept-Encoding": "br"})
	if res.Header.Get("Content-Encoding") != "br" {
		t.Errorf("app.js: Content-Encoding %q, want br", res.Header.Get("Content-Encoding"))
	}
	res, _ = get(t, srv.URL+"/dist/larder.d.ts", map[string]string{"Accept-Encoding": "br"})
	if res.Header.Get("Content-Encoding") != "" {
		t.Errorf("larder.d.ts (51 bytes): Content-Encoding %q, want none", res.Header.Get("Content-Encoding"))
	}
}

func TestServeConditional(t *testing.T) {
	dist := writeDist(t)
	srv := newTestSite(t, dist)
	url := srv.URL + "/dist/larder-fts5.wasm"

	res, _ := get(t, url, map[string]string{"Accept-Encoding": "br"})
	etag := res.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]+-br"$`).MatchString(etag) {
		t.Fatalf("ETag %q, want a strong quoted tag for the br encoding", etag)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache (revalidate every load)", cc)
	}
	if res.Header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified on a file from disk")
	}

	// A warm reload: 304, no body, same validator.
	res, body := get(t, url, map[string]string{"Accept-Encoding": "br", "If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("If-None-Match %s: status %d, %d bytes; want 304, none", etag, res.StatusCode, len(body))
	}
	if res.Header.Get("ETag") != etag {
		t.Errorf("304 ETag %q, want %q", res.Header.Get("ETag"), etag)
	}
	// The tag of another encoding of the same bytes, a list and W/ match too.
	for _, inm := range []string{strings.Replace(etag, "-br", "", 1), `"nope", ` + etag, "W/" + etag, "*"} {
		res, _ = get(t, url, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": inm})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", inm, res.StatusCode)
		}
	}
	res, _ = get(t, url, map[string]string{"If-None-Match": `"0123456789abcdef"`})
	if res.StatusCode != http.StatusOK {
		t.Errorf("stale If-None-Match: status %d, want 200", res.StatusCode)
	}

	// A rebuild while the server runs changes the tag and the content.
	changed := append(bytes.Clone(fakeWasm), "rebuilt"...)
	path := filepath.Join(dist, "larder-fts5.wasm")
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	res, body = get(t, url, map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, changed) {
		t.Fatalf("after rebuild: status %d, %d bytes; want 200 with the new %d bytes", res.StatusCode, len(body), len(changed))
	}
	if res.Header.Get("ETag") == strings.Replace(etag, "-br", "", 1) {
		t.Error("after rebuild: ETag unchanged")
	}
}

func TestServeMigrationsBundle(t *testing.T) {
	srv := newTestSite(t, writeDist(t))
	res, body := get(t, srv.URL+"/migrations.json", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	got, err := migrations.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	want, err := migrations.Load(web.Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) < 4 {
		t.Fatalf("bundle has %d migrations, web/migrations %d (want at least 4)", len(got), len(want))
	}
	for i := range got {
		if got[i].Version != want[i].Version || got[i].Checksum != want[i].Checksum {
			t.Errorf("entry %d: %d %s, want %d %s", i, got[i].Version, got[i].Checksum, want[i].Version, want[i].Checksum)
		}
	}
}

func TestServeRejects(t *testing.T) {
	srv := newTestSite(t, writeDist(t))
	for _, p := range []string{"/nope.js", "/dist/nope.wasm", "/dist/../go.mod", "/dist/%2e%2e/serve.go", "/embed.go", "/extension/manifest.json"} {
		res, _ := get(t, srv.URL+p, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
	}
	res, err := http.Post(srv.URL+"/index.html", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/dist/larder-fts5.wasm", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("HEAD: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestServeConcurrentFirstRequests asks for the wasm from many clients while
// the background preload may still be compressing it: every answer is the
// same complete body under one validator.
func TestServeConcurrentFirstRequests(t *testing.T) {
	srv := newTestSite(t, writeDist(t))
	type answer struct {
		etag string
		body []byte
		err  error
	}
	answers := make(chan answer, 8)
	for range 8 {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/dist/larder-fts5.wasm", nil)
			req.Header.Set("Accept-Encoding", "br")
			res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			answers <- answer{res.Header.Get("ETag"), body, err}
		}()
	}
	first := <-answers
	if first.err != nil {
		t.Fatal(first.err)
	}
	for range 7 {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		if a.etag != first.etag || !bytes.Equal(a.body, first.body) {
			t.Fatalf("concurrent answers differ: %s (%d bytes) vs %s (%d bytes)", a.etag, len(a.body), first.etag, len(first.body))
		}
	}
	plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(first.body)))
	if err != nil || !bytes.Equal(plain, fakeWasm) {
		t.Fatalf("br body does not decode to the file: %v", err)
	}
}
