package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/larderdb/larder/internal/site"
	"github.com/larderdb/larder/web"
)

func init() {
	register(&command{
		name:  "serve",
		args:  "[--addr 127.0.0.1:8080] [--dist DIR] [--web DIR] [--allow-host NAME,...] [--csp POLICY]",
		short: "serve the demo app and dist/ with correct headers",
		run:   runServe,
	})
}

// runServe serves the demo app:
//
//	/                  the app shell: embedded in the binary, or --web DIR
//	/dist/...          the build output (larder.js, *.wasm, ...), read from --dist DIR on disk
//	/migrations.json   the `larder migrate bundle` of the app's migrations, built at startup
//
// Every file is read, hashed and compressed (gzip, brotli) once, and again
// only when it changes on disk, so `make build` while the server runs is
// picked up on the next request. See package internal/site for the headers.
//
// Files are read through an os.Root (site.Dir): a symlink or ".." out of
// --dist or --web is answered 404. Requests whose Host is not the bound
// address, localhost, 127.0.0.1 or [::1] (or an --allow-host name) get
// 421, so a DNS-rebinding page cannot reach the server.
func runServe(ctx context.Context, e *env, args []string) error {
	c := commands["serve"]
	fs := newFlags(e, c)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
	dist := fs.String("dist", "dist", "`directory` served under /dist/ (the output of make build)")
	webDir := fs.String("web", "", "serve the app shell from this `directory` instead of the embedded copy (for editing web/ without rebuilding)")
	allowHost := fs.String("allow-host", "", "comma-separated `names` (host or host:port) accepted in the Host header besides the bound address and localhost")
	csp := fs.String("csp", "", "Content-Security-Policy to send instead of the default (`policy`; see docs/security.md)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}

	cfg := site.Config{App: web.App(), Dist: site.Dir(*dist), Migrations: web.Migrations(), CSP: *csp}
	appName := "embedded"
	if *webDir != "" {
		cfg.App = site.Dir(*webDir)
		cfg.Migrations = site.Dir(filepath.Join(*webDir, "migrations"))
		appName = *webDir
	}
	h, err := site.New(cfg)
	if err != nil {
		return err
	}
	for _, need := range []struct{ file, build, why string }{
		{"larder.js", "make build", ""},
		{"larder-fts5.wasm", "make build EXT=fts5", " (the demo searches with FTS5)"},
	} {
		if _, err := os.Stat(filepath.Join(*dist, need.file)); err != nil {
			fmt.Fprintf(e.stderr, "larder serve: warning: %s is missing%s: run `%s`; dist/ is read from disk, so no restart is needed\n",
				filepath.Join(*dist, need.file), need.why, need.build)
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var extra []string
	for _, n := range strings.Split(*allowHost, ",") {
		if n = strings.TrimSpace(n); n != "" {
			extra = append(extra, n)
		}
	}
	srv := &http.Server{Handler: site.AllowHosts(h, ln.Addr().String(), extra...), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "larder serve: http://%s/ (dist: %s, app: %s)\n", ln.Addr(), *dist, appName)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
