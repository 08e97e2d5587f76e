//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// wasmModule builds a module with one imported function and two defined
// ones of 3 and 5 body bytes, named by a name section.
func wasmModule(names map[uint32]string) []byte {
	uleb := func(n int) []byte { return []byte{byte(n)} } // small values only
	str := func(s string) []byte { return append(uleb(len(s)), s...) }
	section := func(id byte, body []byte) []byte { return append(append([]byte{id}, uleb(len(body))...), body...) }
	var m []byte
	m = append(m, "\x00asm\x01\x00\x00\x00"...)
	imp := append(uleb(1), str("go")...)
	imp = append(imp, str("debug")...)
	imp = append(imp, 0, 0) // func, type 0
	m = append(m, section(2, imp)...)
	code := append(uleb(2), uleb(3)...)
	code = append(code, 0, 0, 0x0b)
	code = append(code, uleb(5)...)
	code = append(code, 0, 1, 1, 1, 0x0b)
	m = append(m, section(10, code)...)
	var fn []byte
	fn = append(fn, uleb(len(names))...)
	for i := uint32(0); i < 3; i++ {
		if n, ok := names[i]; ok {
			fn = append(fn, byte(i))
			fn = append(fn, str(n)...)
		}
	}
	name := append(str("name"), 1)
	name = append(name, uleb(len(fn))...)
	name = append(name, fn...)
	m = append(m, section(0, name)...)
	return m
}

func TestBreakdownByPackage(t *testing.T) {
	m := wasmModule(map[uint32]string{0: "go.debug", 1: "github.com_x_y_z.(*T).M", 2: "runtime.mallocgc"})
	bd, err := breakdown(m, []string{"runtime", "github.com/x/y-z", "github.com/x/y"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, p := range bd.Packages {
		got[p.Package] = p.Bytes
		if p.Funcs != 1 {
			t.Errorf("%s: %d functions, want 1", p.Package, p.Funcs)
		}
	}
	if got["github.com/x/y-z"] != 3 || got["runtime"] != 5 || len(got) != 2 {
		t.Errorf("by package: %v", got)
	}
	// Three sections of one id byte and one size byte each after the 8-byte
	// header; the code section: a count, then two bodies with their sizes.
	if bd.Total != int64(len(m)) || bd.Code != 1+1+3+1+5 || bd.Data != 0 || bd.Code+bd.Other != bd.Total-8-3*2 {
		t.Errorf("sections: %+v", bd)
	}
	if _, err := breakdown(wasmModule(nil), nil); err == nil {
		t.Error("a module without names: no error")
	}
	if _, err := breakdown([]byte("not wasm"), nil); err == nil {
		t.Error("not a module: no error")
	}
}

// TestThrottledServerGzip: the throttled origin sends a served file gzip-
// compressed when the browser accepts it, intact, and plain otherwise.
func TestThrottledServerGzip(t *testing.T) {
	root := t.TempDir()
	dist := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bench", "web"), 0o755)
	body := bytes.Repeat([]byte("larder "), 5000)
	os.WriteFile(filepath.Join(dist, "larder.js"), body, 0o644)
	os.WriteFile(filepath.Join(root, "bench", "web", "x.txt"), []byte("plain"), 0o644)
	link := newLink(8e9, 0)
	gz := newGzipCache()
	st := &linkStats{}
	h := link.handler(gz.handler(http.FileServer(http.Dir(dist)), false, root, dist), st)
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/dist/larder.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("headers: %v", res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	if n := st.bytes.Load(); n == 0 || n >= int64(len(body)) || st.requests.Load() != 1 {
		t.Errorf("link stats: %d requests, %d bytes sent for %d bytes of content", st.requests.Load(), n, len(body))
	}

	req, _ = http.NewRequest("GET", srv.URL+"/dist/nope.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res2, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d", res2.StatusCode)
	}
}
