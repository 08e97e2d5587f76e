package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// TestServeCommand runs `larder serve` as the CLI does, on a free port,
// and stops it with its context (Ctrl-C).
func TestServeCommand(t *testing.T) {
	dist := t.TempDir()
	if err := os.WriteFile(filepath.Join(dist, "larder-fts5.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: pw, stderr: &stderr}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0", "--dist", dist})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first line: %v (stderr: %s)", err, stderr.String())
	}
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q names no address", line)
	}
	go io.Copy(io.Discard, pr)
	res, body := get(t, "http://"+m[1]+"/")
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Larder notes")) {
		t.Errorf("GET /: status %d, body %.80q", res.StatusCode, body)
	}
	res, _ = get(t, "http://"+m[1]+"/dist/larder-fts5.wasm")
	if res.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("wasm: Content-Type %q", res.Header.Get("Content-Type"))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit status %d after interrupt, want 0 (stderr: %s)", code, stderr.String())
	}
	// dist/ has the FTS5 wasm but no larder.js: the server says what to build.
	if msg := stderr.String(); !strings.Contains(msg, "larder.js is missing: run `make build`") || strings.Contains(msg, "larder-fts5.wasm is missing") {
		t.Errorf("stderr %q, want a warning about larder.js only", msg)
	}
}

func TestServeUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	if code := run(context.Background(), e, []string{"serve", "extra"}); code != 2 {
		t.Errorf("serve extra: exit %d, want 2", code)
	}
	if code := run(context.Background(), e, []string{"serve", "--addr", "256.0.0.1:99999", "--dist", t.TempDir()}); code != 1 {
		t.Errorf("serve on a bad address: exit %d, want 1 (stderr: %s)", code, stderr.String())
	}
}

// TestServeRefuses: `larder serve` answers 404 for a symlink out of
// --dist, 421 for a Host that is not its own, and sends the security
// headers.
func TestServeRefuses(t *testing.T) {
	dist := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(dist, "x")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, "larder.js"), []byte("export {};\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: pw, stderr: &stderr}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0", "--dist", dist, "--allow-host", "notes.test"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first line: %v (stderr: %s)", err, stderr.String())
	}
	m := regexp.MustCompile(`http://(127\.0\.0\.1:(\d+))/`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q names no address", line)
	}
	go io.Copy(io.Discard, pr)
	base := "http://" + m[1]
	res, body := get(t, base+"/dist/x")
	if res.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte("root:")) {
		t.Errorf("symlink to /etc/passwd: %d %.60q, want 404", res.StatusCode, body)
	}
	res, _ = get(t, base+"/dist/larder.js")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "'wasm-unsafe-eval'") ||
		res.Header.Get("Referrer-Policy") == "" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("larder.js: %d, headers %v", res.StatusCode, res.Header)
	}
	for host, want := range map[string]int{"evil.example:" + m[2]: 421, "localhost:" + m[2]: 200, "notes.test:" + m[2]: 200, "notes.test:1": 421} {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit status %d (stderr: %s)", code, stderr.String())
	}
}
