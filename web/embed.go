// Package web holds Larder's demo app: an offline-first notes app that uses
// only the public JS API of dist/larder.js, its schema migrations (under
// migrations/) and, in extension/, a Manifest V3 extension example.
//
// The app shell and the migrations are embedded so that `larder serve`
// works from the binary alone; see cmd/larder/serve.go.
package web

import (
	"embed"
	"io/fs"
)

//go:embed *.html *.js *.css *.svg *.webmanifest migrations/*.sql migrations/sync.toml
var files embed.FS

// App is the app shell: index.html, its scripts and styles, the service
// worker, the manifest and the icon, at the root of the returned FS.
func App() fs.FS { return files }

// Migrations is the demo's migrations directory (NNNN_name.sql files and
// sync.toml, what syncs).
func Migrations() fs.FS {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		panic(err) // "migrations" is a valid, embedded path
	}
	return sub
}
