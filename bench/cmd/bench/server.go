//go:build !js

package main

import (
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"

	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/internal/site"
	"github.com/larderdb/larder/web"
)

// servedPrefixes are the only paths of the repository the bench serves.
var servedPrefixes = []string{"/bench/web/", "/bench/node_modules/", "/dist/"}

// server serves the repository root on 127.0.0.1 twice: a plain origin and a
// cross-origin isolated one (COOP/COEP on every response), for the peers that
// need SharedArrayBuffer. Only the isolated configs load pages from the
// second origin, so no other system gets headers it does not ask for.
//
// Two more origins serve the same files over a throttled link (throttle.go)
// for the first-visit workload, gzip-compressed as a deployed app would
// serve them, and one serves the demo app (web/) as `larder serve` does.
type server struct {
	plain, isolated string // base URLs, "http://127.0.0.1:PORT"
	// throttledPlain and throttledIsolated are the same behind the
	// throttled link.
	throttledPlain, throttledIsolated string
	demo                              string // the demo app, as `make run` serves it
	listeners                         []io.Closer

	handler func(isolated, throttled bool, st *linkStats) http.Handler
	listen  func(h http.Handler, throttled bool) (string, io.Closer, error)
}

// fresh serves config c's files on a new port until done is called: an
// origin the browser has never seen (see measureOnce). On a throttled
// origin, st counts what went over the link.
func (s *server) fresh(c config, throttled bool) (origin string, st *linkStats, done func(), err error) {
	st = &linkStats{}
	base, l, err := s.listen(s.handler(c.Isolated, throttled, st), throttled)
	if err != nil {
		return "", nil, nil, err
	}
	return base, st, func() { l.Close() }, nil
}

// startServer serves root, with /dist/ taken from distDir (a snapshot of
// dist/ taken when the run starts, so a `make build` running beside the
// bench cannot change Larder halfway through a run).
func startServer(root, distDir string) (*server, error) {
	for _, ext := range []string{".js", ".mjs", ".wasm", ".json", ".html"} {
		if err := mime.AddExtensionType(ext, browsertest.ContentType("x"+ext)); err != nil {
			return nil, err
		}
	}
	repo := http.FileServer(http.Dir(root))
	dist := http.StripPrefix("/dist/", http.FileServer(http.Dir(distDir)))
	handler := func(isolated bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := path.Clean(r.URL.Path)
			if !served(p) {
				http.NotFound(w, r)
				return
			}
			setHeaders(w.Header(), isolated)
			if strings.HasPrefix(p, "/dist/") {
				dist.ServeHTTP(w, r)
				return
			}
			repo.ServeHTTP(w, r)
		})
	}
	s := &server{}
	s.listen = func(h http.Handler, throttled bool) (string, io.Closer, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("bench: listen: %w", err)
		}
		srv := &http.Server{Handler: h}
		if throttled {
			srv.ConnContext = newConnContext
		}
		go srv.Serve(l)
		return "http://" + l.Addr().String(), srv, nil
	}
	listen := func(h http.Handler, throttled bool) (string, error) {
		base, l, err := s.listen(h, throttled)
		if err == nil {
			s.listeners = append(s.listeners, l)
		}
		return base, err
	}
	link := newLink(linkBitsPerSecond, linkRTT)
	gz := newGzipCache()
	s.handler = func(iso, slow bool, st *linkStats) http.Handler {
		if slow {
			return link.handler(gz.handler(handler(iso), iso, root, distDir), st)
		}
		return handler(iso)
	}
	for _, o := range []struct {
		dst       *string
		iso, slow bool
	}{{&s.plain, false, false}, {&s.isolated, true, false}, {&s.throttledPlain, false, true}, {&s.throttledIsolated, true, true}} {
		base, err := listen(s.handler(o.iso, o.slow, nil), o.slow)
		if err != nil {
			s.close()
			return nil, err
		}
		*o.dst = base
	}
	if demo, err := demoHandler(distDir); err != nil {
		log.Printf("demo app not served: %v", err)
	} else if s.demo, err = listen(demo, false); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// setHeaders sets the headers every bench response gets.
func setHeaders(h http.Header, isolated bool) {
	// Revalidate on every load (304s), as a deployed app with cache
	// validators would.
	h.Set("Cache-Control", "no-cache")
	if isolated {
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
	}
}

func served(p string) bool {
	for _, pre := range servedPrefixes {
		if strings.HasPrefix(p+"/", pre) || strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// demoHandler serves web/ and dist/ as `larder serve` does (internal/site:
// gzip and brotli, cache validators, the app's headers), with one change:
// 'unsafe-eval' in script-src, since WebKit's WebDriver driver evaluates
// the bench's scripts in the page with eval (internal/browsertest/webkit.go).
func demoHandler(distDir string) (http.Handler, error) {
	csp := strings.Replace(site.DefaultCSP, "script-src 'self'", "script-src 'self' 'unsafe-eval'", 1)
	return site.New(site.Config{App: web.App(), Dist: site.Dir(distDir), Migrations: web.Migrations(), CSP: csp})
}

// origin is where config c's pages are loaded from; throttled: behind the
// throttled link.
func (s *server) origin(c config, throttled bool) string {
	switch {
	case throttled && c.Isolated:
		return s.throttledIsolated
	case throttled:
		return s.throttledPlain
	case c.Isolated:
		return s.isolated
	}
	return s.plain
}

func (s *server) close() {
	for _, l := range s.listeners {
		l.Close()
	}
}
