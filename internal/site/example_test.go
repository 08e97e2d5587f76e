package site_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"testing/fstest"

	"github.com/larderdb/larder/internal/site"
)

// A site over in-memory files: the app shell at /, the build under /dist/,
// the migrations bundled at /migrations.json.
func ExampleNew() {
	h, err := site.New(site.Config{
		App:        fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>app</title>")}},
		Dist:       fstest.MapFS{"larder.wasm": {Data: make([]byte, 4096)}},
		Migrations: fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE note (id INTEGER PRIMARY KEY);")}},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, path := range []string{"/", "/dist/larder.wasm", "/migrations.json"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "br, gzip")
		res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Printf("%s: %d %s encoding=%q\n", path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"))
	}
	// Output:
	// /: 200 text/html; charset=utf-8 encoding=""
	// /dist/larder.wasm: 200 application/wasm encoding="br"
	// /migrations.json: 200 application/json encoding=""
}
