package site

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
)

// DefaultCSP is the Content-Security-Policy a site sends when
// [Config.CSP] is empty. 'wasm-unsafe-eval' lets the worker compile
// larder.wasm; 'unsafe-eval' is left out, so JS-function migrations (which
// the worker rebuilds from source text) do not run under it: an app that
// uses them sets its own policy (docs/security.md). The hashes of the app
// shell's inline scripts are added to script-src per page.
const DefaultCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response of a site carries.
func securityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
}

var inlineScript = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
var srcAttr = regexp.MustCompile(`(?i)\ssrc\s*=`)

// withScriptHashes adds to csp's script-src the 'sha256-…' source of each
// inline <script> in page, so an app shell such as web/index.html, with a
// one-line inline script, works under a policy without 'unsafe-inline'.
func withScriptHashes(csp string, page []byte) string {
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		if srcAttr.Match(m[1]) {
			continue
		}
		sum := sha256.Sum256(m[2])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(hashes) == 0 {
		return csp
	}
	directives := strings.Split(csp, ";")
	for i, d := range directives {
		if f := strings.Fields(d); len(f) > 0 && strings.EqualFold(f[0], "script-src") {
			directives[i] = strings.TrimRight(d, " ") + " " + strings.Join(hashes, " ")
			return strings.Join(directives, ";")
		}
	}
	return csp
}

// AllowHosts wraps h so that it answers only requests whose Host header
// names this server: the address it is bound to (addr, as net.Listener's
// Addr().String() gives it), localhost, 127.0.0.1 or [::1], on addr's port
// or without a port, or one of extra (host or host:port). Anything else
// gets 421 Misdirected Request: a page on another name that resolves to
// this machine (DNS rebinding) cannot read the app or its data.
func AllowHosts(h http.Handler, addr string, extra ...string) http.Handler {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, ""
	}
	allowed := map[string]bool{}
	for _, n := range append([]string{"localhost", "127.0.0.1", "::1", host}, extra...) {
		n = strings.ToLower(strings.Trim(n, "[]"))
		if n == "" || n == "0.0.0.0" || n == "::" {
			continue // an unspecified address is no name a browser sends
		}
		if hn, p, err := net.SplitHostPort(n); err == nil {
			allowed[strings.Trim(hn, "[]")+"|"+p] = true
			continue
		}
		allowed[n+"|"] = true
		allowed[n+"|"+port] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hn, p, err := net.SplitHostPort(r.Host)
		if err != nil {
			hn, p = r.Host, ""
		}
		if !allowed[strings.ToLower(strings.Trim(hn, "[]"))+"|"+p] {
			securityHeaders(w.Header(), DefaultCSP)
			http.Error(w, "larder serve: Host "+quoteHost(r.Host)+" is not this server (start it with --allow-host NAME to serve that name)", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// quoteHost keeps a hostile Host header printable in the error.
func quoteHost(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.ToValidUTF8(`"`+strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)+`"`, "?")
}

// Dir returns the files under dir as an fs.FS that cannot leave dir: it
// reads through an [os.Root], so a symlink or a ".." that points outside
// (dist/x -> /etc/passwd) is an error, which the site answers with 404. A
// dir that does not exist yet is opened on the first request that finds it
// (make build may run after the server started).
func Dir(dir string) fs.FS { return &rootFS{dir: dir} }

type rootFS struct {
	dir  string
	mu   sync.Mutex
	root *os.Root
}

func (r *rootFS) fsys() (fs.FS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.root != nil && !r.same() {
		r.root.Close() // dir was removed or replaced (rm -rf dist; make build)
		r.root = nil
	}
	if r.root == nil {
		root, err := os.OpenRoot(r.dir)
		if err != nil {
			return nil, err
		}
		r.root = root
	}
	return r.root.FS(), nil
}

// same reports whether the open root is still the directory at r.dir.
func (r *rootFS) same() bool {
	a, err := os.Stat(r.dir)
	if err != nil {
		return false
	}
	b, err := r.root.Stat(".")
	return err == nil && os.SameFile(a, b)
}

// Open implements fs.FS.
func (r *rootFS) Open(name string) (fs.File, error) {
	f, err := r.fsys()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.Open(name)
}

// Stat implements fs.StatFS (os.Root's FS does, following links inside the root).
func (r *rootFS) Stat(name string) (fs.FileInfo, error) {
	f, err := r.fsys()
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return fs.Stat(f, name)
}

// notFound reports whether err from reading a file means "no such file
// here" to a client: missing, an invalid name, or a path that escapes the
// served directory.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || strings.Contains(err.Error(), "escapes from parent")
}
