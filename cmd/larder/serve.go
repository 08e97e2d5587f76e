package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/larderdb/larder/internal/site"
	"github.com/larderdb/larder/web"
)

func init() {
	register(&command{
		name:  "serve",
		args:  "[--addr 127.0.0.1:8080] [--dist DIR] [--web DIR]",
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
func runServe(ctx context.Context, e *env, args []string) error {
	c := commands["serve"]
	fs := newFlags(e, c)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
	dist := fs.String("dist", "dist", "`directory` served under /dist/ (the output of make build)")
	webDir := fs.String("web", "", "serve the app shell from this `directory` instead of the embedded copy (for editing web/ without rebuilding)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}

	cfg := site.Config{App: web.App(), Dist: os.DirFS(*dist), Migrations: web.Migrations()}
	appName := "embedded"
	if *webDir != "" {
		cfg.App = os.DirFS(*webDir)
		cfg.Migrations = os.DirFS(filepath.Join(*webDir, "migrations"))
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
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
