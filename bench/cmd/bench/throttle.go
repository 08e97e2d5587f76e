//go:build !js

package main

// The throttled network of the first-visit workload: about what a user on
// a fair connection gets (20 Mbit/s down, 40 ms round trip), made by the
// bench's own HTTP server so that every engine sees the same network
// (Chromium's network emulation has no Firefox or WebKit twin). Every
// response waits one round trip before its first byte, and the first
// response on a connection one more (the TCP handshake); bodies go through
// one shared link paced at the bandwidth, so parallel downloads share it.
// Responses are gzip-compressed (level 9) when the browser accepts it, as a
// deployed app's server or CDN would send them: over http://127.0.0.1
// browsers offer gzip but not brotli (an https-only encoding).

import (
	"bytes"
	"compress/gzip"
	"context"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

const (
	linkBitsPerSecond = 20_000_000
	linkRTT           = 40 * time.Millisecond
	linkChunk         = 16 << 10
)

// link is one shared, paced downlink.
type link struct {
	bytesPerSec float64
	rtt         time.Duration

	mu   sync.Mutex
	next time.Time // when the link is free again
}

func newLink(bitsPerSecond float64, rtt time.Duration) *link {
	return &link{bytesPerSec: bitsPerSecond / 8, rtt: rtt}
}

// reserve books n bytes on the link and returns when they have gone through.
func (l *link) reserve(n int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	if l.next.After(start) {
		start = l.next
	}
	l.next = start.Add(time.Duration(float64(n) / l.bytesPerSec * float64(time.Second)))
	return l.next
}

type connKey struct{}

// connState marks whether a connection has answered yet.
type connState struct{ used atomic.Bool }

func newConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

// linkStats counts what one origin sent over the link.
type linkStats struct {
	requests, bytes atomic.Int64
}

// handler sends h's responses over the link, counting them in st (if set).
func (l *link) handler(h http.Handler, st *linkStats) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st != nil {
			st.requests.Add(1)
			w = &countingWriter{ResponseWriter: w, n: &st.bytes}
		}
		delay := l.rtt
		if st, ok := r.Context().Value(connKey{}).(*connState); ok && !st.used.Swap(true) {
			delay += l.rtt // the handshake of a new connection
		}
		time.Sleep(delay)
		h.ServeHTTP(&pacedWriter{ResponseWriter: w, link: l}, r)
	})
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}

type pacedWriter struct {
	http.ResponseWriter
	link *link
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), linkChunk)
		time.Sleep(time.Until(p.link.reserve(n)))
		m, err := p.ResponseWriter.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// gzipCache holds each served file gzip-compressed once.
type gzipCache struct {
	mu    sync.Mutex
	files map[string]gzEntry
}

type gzEntry struct {
	mod  time.Time
	size int64
	gz   []byte
}

func newGzipCache() *gzipCache { return &gzipCache{files: map[string]gzEntry{}} }

var compressible = map[string]bool{".js": true, ".mjs": true, ".wasm": true, ".html": true, ".json": true, ".data": true, ".css": true}

// handler answers GETs of compressible files under the served prefixes
// with their gzip form when the browser accepts it, and leaves every
// other request to next.
func (g *gzipCache) handler(next http.Handler, isolated bool, root, distDir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean(r.URL.Path)
		if r.Method != http.MethodGet || !served(p) || !compressible[path.Ext(p)] || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		file := filepath.Join(root, filepath.FromSlash(p))
		if rest, ok := strings.CutPrefix(p, "/dist/"); ok {
			file = filepath.Join(distDir, filepath.FromSlash(rest))
		}
		gz, err := g.get(file)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		setHeaders(h, isolated)
		h.Set("Content-Type", browsertest.ContentType(p))
		h.Set("Content-Encoding", "gzip")
		h.Set("Vary", "Accept-Encoding")
		h.Set("Content-Length", strconv.Itoa(len(gz)))
		w.WriteHeader(http.StatusOK)
		w.Write(gz)
	})
}

func (g *gzipCache) get(file string) ([]byte, error) {
	st, err := os.Stat(file)
	if err != nil || !st.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.files[file]; ok && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return e.gz, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	g.files[file] = gzEntry{mod: st.ModTime(), size: st.Size(), gz: buf.Bytes()}
	return buf.Bytes(), nil
}
