//go:build js

// Command edge is Larder's Cloudflare Worker (github.com/syumai/workers):
// it applies the embedded migrations to the D1 database bound as DB on the
// first request of each isolate, serves their status, and keeps SQLite
// database backups in the R2 bucket bound as BACKUPS. See docs/edge.md.
package main

import (
	_ "embed"
	"log"
	"net/http"

	"github.com/syumai/workers"
)

// bundle is `larder migrate bundle` output with statements split by SQLite
// (make edge-bundle writes it from web/migrations, or MIGRATIONS=dir).
//
//go:embed migrations.json
var bundle []byte

func main() {
	s, err := newServer(bundle, jsEnv{})
	if err != nil {
		log.Printf("larder: embedded migrations: %v", err)
		workers.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusInternalServerError, err)
		}))
		return
	}
	workers.Serve(s)
}
