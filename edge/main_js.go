//go:build js

// Command edge is Larder's Cloudflare Worker (github.com/syumai/workers):
// it applies the embedded migrations to the D1 database bound as DB on the
// first request of each isolate, serves their status, and keeps SQLite
// database backups in the R2 bucket bound as BACKUPS. See docs/edge.md.
package main

import (
	_ "embed"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/syumai/workers"

	"github.com/larderdb/larder/migrations"
)

// bundle is `larder migrate bundle --statements` output. The committed
// migrations.json is a placeholder, an empty array, so that the package
// builds on a fresh clone; `make edge-build` writes the real bundle (of
// EDGE_MIGRATIONS) to build/migrations.json and swaps it in with
// `go build -overlay`, leaving the placeholder untouched. A Worker built
// with the placeholder answers every request with an error saying so.
//
//go:embed migrations.json
var bundle []byte

// syncTOML is the project's sync.toml (which tables sync and whose rows
// they are), embedded the same way: the committed sync.toml is an empty
// placeholder (this Worker does not sync); `make edge-build` copies
// EDGE_MIGRATIONS/sync.toml to build/sync.toml and swaps it in with
// -overlay.
//
//go:embed sync.toml
var syncTOML []byte

func main() {
	s, err := newServer(bundle, syncTOML, jsEnv{})
	if errors.Is(err, migrations.ErrNoMigrations) {
		err = fmt.Errorf("%w: this Worker embeds the placeholder edge/migrations.json; build it with make edge-build (EDGE_MIGRATIONS=dir)", err)
	}
	if err != nil {
		log.Printf("larder: embedded migrations: %v", err)
		workers.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusInternalServerError, err)
		}))
		return
	}
	workers.Serve(s)
}
