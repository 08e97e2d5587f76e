//go:build !js

package main

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"

	"github.com/larderdb/larder/internal/browsertest"
)

// servedPrefixes are the only paths of the repository the bench serves.
var servedPrefixes = []string{"/bench/web/", "/bench/node_modules/", "/dist/"}

// server serves the repository root on 127.0.0.1 twice: a plain origin and a
// cross-origin isolated one (COOP/COEP on every response), for the peers that
// need SharedArrayBuffer. Only the isolated configs load pages from the
// second origin, so no other system gets headers it does not ask for.
type server struct {
	plain, isolated string // base URLs, "http://127.0.0.1:PORT"
	listeners       []net.Listener
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
			ok := false
			for _, pre := range servedPrefixes {
				if strings.HasPrefix(p+"/", pre) || strings.HasPrefix(p, pre) {
					ok = true
				}
			}
			if !ok {
				http.NotFound(w, r)
				return
			}
			// Revalidate on every load (304s), as a deployed app with
			// cache validators would.
			w.Header().Set("Cache-Control", "no-cache")
			if isolated {
				w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
				w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
				w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
			}
			if strings.HasPrefix(p, "/dist/") {
				dist.ServeHTTP(w, r)
				return
			}
			repo.ServeHTTP(w, r)
		})
	}
	s := &server{}
	for _, iso := range []bool{false, true} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.close()
			return nil, fmt.Errorf("bench: listen: %w", err)
		}
		s.listeners = append(s.listeners, l)
		go http.Serve(l, handler(iso))
		base := "http://" + l.Addr().String()
		if iso {
			s.isolated = base
		} else {
			s.plain = base
		}
	}
	return s, nil
}

func (s *server) origin(c config) string {
	if c.Isolated {
		return s.isolated
	}
	return s.plain
}

func (s *server) close() {
	for _, l := range s.listeners {
		l.Close()
	}
}
