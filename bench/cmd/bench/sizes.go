//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// sizeRow is one file a system's page or worker loads.
type sizeRow struct {
	System string `json:"system"`
	File   string `json:"file"`
	Raw    int64  `json:"raw"`
	Gzip   int64  `json:"gzip"`
	Brotli int64  `json:"brotli"` // -1 when node (for zlib's brotli) is missing
	SHA256 string `json:"sha256"` // to reuse the figures of an unchanged file
}

// bundles lists, per system, the files that an app ships for it (relative
// to the repository root). Glob patterns are expanded.
var bundles = []struct {
	System string
	Files  []string
}{
	{"larder", []string{"dist/larder.js", "dist/larder-worker.js", "dist/wasm_exec.js", "dist/larder.wasm", "dist/larder-fts5.wasm"}},
	{"sqlite-wasm", []string{"bench/node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs", "bench/node_modules/@sqlite.org/sqlite-wasm/dist/sqlite3-opfs-async-proxy.js", "bench/node_modules/@sqlite.org/sqlite-wasm/dist/sqlite3.wasm"}},
	{"wa-sqlite", []string{"bench/node_modules/wa-sqlite/src/sqlite-api.js", "bench/node_modules/wa-sqlite/dist/wa-sqlite.mjs", "bench/node_modules/wa-sqlite/dist/wa-sqlite.wasm", "bench/node_modules/wa-sqlite/dist/wa-sqlite-async.mjs", "bench/node_modules/wa-sqlite/dist/wa-sqlite-async.wasm"}},
	{"pglite", []string{"bench/node_modules/@electric-sql/pglite/dist/index.js", "bench/node_modules/@electric-sql/pglite/dist/chunk-*.js", "bench/node_modules/@electric-sql/pglite/dist/pglite.wasm", "bench/node_modules/@electric-sql/pglite/dist/pglite.data", "bench/node_modules/@electric-sql/pglite/dist/initdb.wasm"}},
}

// measureSizes compresses each file, or reuses prev's figures for a file
// whose content is unchanged (brotli at quality 11 takes minutes on 30 MB).
func measureSizes(root string, prev []sizeRow) []sizeRow {
	_, nodeErr := exec.LookPath("node")
	var rows []sizeRow
	for _, b := range bundles {
		for _, pat := range b.Files {
			matches, _ := filepath.Glob(filepath.Join(root, pat))
			for _, f := range matches {
				data, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				rel, _ := filepath.Rel(root, f)
				sum := fmt.Sprintf("%x", sha256.Sum256(data))
				if i := slices.IndexFunc(prev, func(r sizeRow) bool { return r.File == rel && r.SHA256 == sum && r.Brotli >= 0 }); i >= 0 {
					rows = append(rows, prev[i])
					continue
				}
				row := sizeRow{System: b.System, File: rel, Raw: int64(len(data)), Gzip: gzipSize(data), Brotli: -1, SHA256: sum}
				if nodeErr == nil {
					row.Brotli = brotliSize(f)
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

func gzipSize(data []byte) int64 {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return int64(buf.Len())
}

// brotliSize compresses with Node's zlib at its default quality (11), which
// is what a build step or a CDN would serve.
func brotliSize(path string) int64 {
	out, err := exec.Command("node", "-e",
		`process.stdout.write(String(require("zlib").brotliCompressSync(require("fs").readFileSync(process.argv[1])).length))`,
		path).Output()
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
