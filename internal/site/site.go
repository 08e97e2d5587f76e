// Package site is the HTTP handler of `larder serve`: a Larder app shell, the
// build output under /dist/ and the migrations bundle at /migrations.json,
// with the headers a Larder app needs (see [New]).
package site

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/larderdb/larder/migrations"
)

// Config is what a site serves.
type Config struct {
	App        fs.FS // the app shell at /
	Dist       fs.FS // make build's output at /dist/
	Migrations fs.FS // NNNN_name.sql files, bundled at /migrations.json
	// CSP replaces [DefaultCSP] as the Content-Security-Policy of every
	// response (inline scripts' hashes are still added to its script-src).
	CSP string
}

// New returns a handler that serves c with the headers a Larder app needs:
//
//   - Content-Type from a fixed table (application/wasm for .wasm, so that
//     WebAssembly.instantiateStreaming accepts it), never sniffed.
//   - Content-Encoding br or gzip when the request accepts it and the type
//     compresses, with Vary: Accept-Encoding. Compressed bodies are made once
//     per file version, not per request.
//   - A strong ETag per file version and encoding, Cache-Control: no-cache
//     (use, but revalidate), and 304 Not Modified for a matching
//     If-None-Match: a warm reload transfers no wasm and Chromium reuses the
//     compiled module from its code cache.
//   - No COOP/COEP: Larder does not need SharedArrayBuffer, and those headers
//     break third-party iframes.
//   - On every response: Content-Security-Policy ([DefaultCSP] or c.CSP,
//     with 'wasm-unsafe-eval' and the hashes of an HTML page's inline
//     scripts), Referrer-Policy: no-referrer, X-Frame-Options: DENY (and
//     frame-ancestors 'none'), X-Content-Type-Options: nosniff.
//
// Serve directories through [Dir], which cannot be left by a symlink or
// "..": a path that escapes is answered 404. Wrap the handler in
// [AllowHosts] when it listens on a socket.
//
// Files are read, hashed and compressed once (the top level of each FS
// right away, in the background; the rest on first request), and again only
// when their size or modification time changes, so a rebuild while the
// server runs is picked up on the next request. The bundle is built once.
func New(c Config) (http.Handler, error) {
	migs, err := migrations.Load(c.Migrations, ".")
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	// sync.toml beside the migrations rides in the bundle, as `larder
	// migrate bundle` puts it, so open({ sync: { url, token } }) finds it.
	syncTOML, err := fs.ReadFile(c.Migrations, "sync.toml")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("site: %w", err)
	}
	bundle, err := migrations.BundleWithSync(migs, string(syncTOML))
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	csp := c.CSP
	if csp == "" {
		csp = DefaultCSP
	}
	h := &handler{
		csp:    csp,
		app:    &assetStore{fsys: c.App, files: map[string]*entry{}},
		dist:   &assetStore{fsys: c.Dist, files: map[string]*entry{}},
		bundle: newAsset("migrations.json", bundle, time.Time{}),
	}
	// Compress what there is now, in the background: the server listens at
	// once, and a request for a file still being compressed waits for it
	// (about a second for an 18 MB wasm) instead of compressing it again.
	// A missing dist/ is not an error: the build may come later.
	go h.app.preload()
	go h.dist.preload()
	return h, nil
}

type handler struct {
	csp       string
	app, dist *assetStore
	bundle    *asset
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header(), h.csp)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	var (
		a   *asset
		err error
	)
	switch {
	case p == "/migrations.json":
		a = h.bundle
	case p == "/dist":
		http.Redirect(w, r, "/dist/", http.StatusMovedPermanently)
		return
	case strings.HasPrefix(p, "/dist/"):
		a, err = h.dist.get(strings.TrimPrefix(p, "/dist/"))
	default:
		name := strings.TrimPrefix(p, "/")
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		a, err = h.app.get(name)
	}
	switch {
	case err != nil && notFound(err):
		http.NotFound(w, r)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if strings.HasPrefix(a.ctype, "text/html") {
		w.Header().Set("Content-Security-Policy", withScriptHashes(h.csp, a.raw))
	}
	a.serve(w, r)
}

// assetStore reads files of an fs.FS into assets and keeps them until the
// file's size or modification time changes. Each version of a file is read
// and compressed once: concurrent requests for it wait for that one load.
type assetStore struct {
	fsys  fs.FS
	mu    sync.Mutex
	files map[string]*entry
}

// An entry is one version of a file, loading (done open) or loaded.
type entry struct {
	size    int64
	modTime time.Time
	done    chan struct{}
	a       *asset
	err     error
}

// preload loads the top level of the FS, where the hot files are (the app
// shell; larder.js and the wasm modules in dist/). Files further down, and
// types the site does not know, are loaded on their first request: dist/
// also holds bin/larder and the assembled extension, which no page needs at
// startup.
func (s *assetStore) preload() {
	entries, _ := fs.ReadDir(s.fsys, ".") // a missing dist/ is loaded later
	for _, e := range entries {
		if e.Type().IsRegular() && contentType(e.Name()) != "application/octet-stream" {
			s.get(e.Name())
		}
	}
}

func (s *assetStore) get(name string) (*asset, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrInvalid
	}
	fi, err := fs.Stat(s.fsys, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	s.mu.Lock()
	e := s.files[name]
	if e != nil && e.size == fi.Size() && e.modTime.Equal(fi.ModTime()) {
		s.mu.Unlock()
		<-e.done
		return e.a, e.err
	}
	e = &entry{size: fi.Size(), modTime: fi.ModTime(), done: make(chan struct{})}
	s.files[name] = e
	s.mu.Unlock()

	data, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		e.err = err
		s.mu.Lock()
		if s.files[name] == e {
			delete(s.files, name) // retry on the next request
		}
		s.mu.Unlock()
	} else {
		e.a = newAsset(name, data, fi.ModTime())
	}
	close(e.done)
	return e.a, e.err
}

// An asset is one version of one file, with its compressed forms.
type asset struct {
	modTime time.Time
	ctype   string
	etag    string // unquoted; the encodings append -gzip / -br
	raw     []byte
	gz, br  []byte // nil when the type does not compress or compression does not pay
}

func newAsset(name string, data []byte, modTime time.Time) *asset {
	sum := sha256.Sum256(data)
	a := &asset{
		modTime: modTime,
		ctype:   contentType(name),
		etag:    hex.EncodeToString(sum[:12]),
		raw:     data,
	}
	if compressible(a.ctype) && len(data) > 256 {
		var wg sync.WaitGroup
		wg.Go(func() { a.gz = gzipBytes(data) })
		a.br = brotliBytes(data)
		wg.Wait()
		if len(a.gz) >= len(data) {
			a.gz = nil
		}
		if len(a.br) >= len(data) {
			a.br = nil
		}
	}
	return a
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	body, enc := a.raw, ""
	accept := r.Header.Get("Accept-Encoding")
	switch {
	case a.br != nil && acceptsEncoding(accept, "br"):
		body, enc = a.br, "br"
	case a.gz != nil && acceptsEncoding(accept, "gzip"):
		body, enc = a.gz, "gzip"
	}
	etag := `"` + a.etag + `"`
	if enc != "" {
		etag = `"` + a.etag + "-" + enc + `"`
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.ctype)
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "no-cache")
	if a.gz != nil || a.br != nil {
		hdr.Set("Vary", "Accept-Encoding")
	}
	if !a.modTime.IsZero() {
		hdr.Set("Last-Modified", a.modTime.UTC().Format(http.TimeFormat))
	}
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if enc != "" {
		hdr.Set("Content-Encoding", enc)
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110
// 13.1.2) against any encoding of the asset: the representations differ
// only in transfer coding, so any of them is still fresh.
func etagMatches(header, base string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		t = strings.Trim(t, `"`)
		t = strings.TrimSuffix(strings.TrimSuffix(t, "-gzip"), "-br")
		if t == base {
			return true
		}
	}
	return false
}

// acceptsEncoding reports whether an Accept-Encoding header allows coding
// (q=0 refuses it).
func acceptsEncoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				v = strings.TrimSpace(v)
				return strings.Trim(v, "0.") != ""
			}
		}
		return true
	}
	return false
}

var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".sql":         "text/plain; charset=utf-8",
	".ts":          "text/plain; charset=utf-8", // larder.d.ts: for reading, not for running
	".sqlite":      "application/vnd.sqlite3",
}

// contentType is fixed per extension rather than taken from the system's
// mime.types, which differ between machines (some lack .wasm).
func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || ctype == "application/wasm" ||
		ctype == "application/json" || ctype == "application/manifest+json" || ctype == "image/svg+xml"
}

func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression) // the level is valid
	zw.Write(data)                                            // writes to a bytes.Buffer do not fail
	zw.Close()
	return b.Bytes()
}

// brotliLevel trades startup time for size. On the 18 MB larder-fts5.wasm,
// level 5 takes 0.8 s for 4.05 MB, level 6 1.3 s for 4.01 MB (gzip -9: 3.7 s
// for 4.9 MB); 11 takes minutes.
const brotliLevel = 5

func brotliBytes(data []byte) []byte {
	var b bytes.Buffer
	bw := brotli.NewWriterLevel(&b, brotliLevel)
	bw.Write(data)
	bw.Close()
	return b.Bytes()
}
