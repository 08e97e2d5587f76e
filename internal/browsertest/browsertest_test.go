//go:build !js

package browsertest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestServeHeadersAndFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.wasm"), []byte("\x00asm"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.js"), []byte("export {}"), 0o644)
	s := Serve(t)
	s.Mount("/dist/", dir)
	s.SetFile("/x.json", []byte(`[1]`))
	for path, want := range map[string]struct{ ct, body string }{
		"/dist/m.wasm": {"application/wasm", "\x00asm"},
		"/dist/a.js":   {"text/javascript; charset=utf-8", "export {}"},
		"/x.json":      {"application/json", "[1]"},
	} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want.ct || string(body) != want.body {
			t.Errorf("%s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: Cache-Control %q", path, resp.Header.Get("Cache-Control"))
		}
	}
	resp, err := http.Get(s.URL + "/dist/missing.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
}

func TestFindChromium(t *testing.T) {
	t.Setenv("LARDER_CHROMIUM", "/opt/x/chromium")
	if p, err := FindChromium(); err != nil || p != "/opt/x/chromium" {
		t.Fatalf("%q %v", p, err)
	}
}
