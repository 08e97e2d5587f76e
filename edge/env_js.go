//go:build js

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall/js"

	"github.com/syumai/workers/cloudflare"

	"github.com/larderdb/larder/edge/d1"
	"github.com/larderdb/larder/internal/jsutil"
)

// Binding names, as in wrangler.toml.
const (
	d1Binding = "DB"
	r2Binding = "BACKUPS"
)

// migratedKey is the global of the isolate that remembers the bundle D1
// was brought up to. Go globals do not survive a request (each request
// starts a fresh Go instance); JavaScript globals live as long as the
// isolate.
const migratedKey = "__larderMigrated"

// jsEnv is the Worker's environment.
type jsEnv struct{}

func (jsEnv) DB() (d1.Conn, error) { return d1.Open(d1Binding) }

func (jsEnv) Getenv(name string) string { return cloudflare.Getenv(name) }

func (jsEnv) Migrated() string {
	v := js.Global().Get(migratedKey)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func (jsEnv) SetMigrated(id string) { js.Global().Set(migratedKey, id) }

func (jsEnv) Backups() (backupStore, error) {
	b := cloudflare.GetBinding(r2Binding)
	if b.Type() != js.TypeObject || b.Get("put").Type() != js.TypeFunction {
		return nil, fmt.Errorf("no R2 binding %q in the Worker's environment (see wrangler.toml)", r2Binding)
	}
	return r2Store{b}, nil
}

// r2Store keeps backups in an R2 bucket
// (https://developers.cloudflare.com/r2/api/workers/workers-api-reference/),
// one object per backup, keyed by its name. It calls the binding directly:
// syumai's r2.Bucket.List has no cursor, and a bucket may hold more than
// one page of objects.
type r2Store struct{ bucket js.Value }

func (s r2Store) Put(ctx context.Context, name string, data []byte, info imageInfo) (backupInfo, error) {
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	opts := map[string]any{
		"httpMetadata": map[string]any{"contentType": "application/vnd.sqlite3"},
		"customMetadata": map[string]any{
			"pageSize": strconv.Itoa(info.PageSize),
			"pages":    strconv.Itoa(info.Pages),
		},
	}
	p, err := jsutil.Call(s.bucket, "put", name, u8, opts)
	if err != nil {
		return backupInfo{}, err
	}
	obj, err := jsutil.Await(p)
	if err != nil {
		return backupInfo{}, err
	}
	return toInfo(obj), nil
}

func (s r2Store) Get(ctx context.Context, name string) (io.ReadCloser, backupInfo, error) {
	p, err := jsutil.Call(s.bucket, "get", name)
	if err != nil {
		return nil, backupInfo{}, err
	}
	obj, err := jsutil.Await(p)
	if err != nil {
		return nil, backupInfo{}, err
	}
	if obj.Type() != js.TypeObject {
		return nil, backupInfo{}, errNoBackup
	}
	p, err = jsutil.Call(obj, "arrayBuffer")
	if err != nil {
		return nil, backupInfo{}, err
	}
	buf, err := jsutil.Await(p)
	if err != nil {
		return nil, backupInfo{}, err
	}
	u8 := js.Global().Get("Uint8Array").New(buf)
	data := make([]byte, u8.Length())
	js.CopyBytesToGo(data, u8)
	info := toInfo(obj)
	if info.Size != int64(len(data)) {
		return nil, info, errors.New("short read from R2")
	}
	return io.NopCloser(bytes.NewReader(data)), info, nil
}

func (s r2Store) List(ctx context.Context) ([]backupInfo, error) {
	var out []backupInfo
	cursor := ""
	for {
		opts := map[string]any{"limit": 1000}
		if cursor != "" {
			opts["cursor"] = cursor
		}
		p, err := jsutil.Call(s.bucket, "list", opts)
		if err != nil {
			return nil, err
		}
		res, err := jsutil.Await(p)
		if err != nil {
			return nil, err
		}
		objs := res.Get("objects")
		for i := 0; i < objs.Length(); i++ {
			out = append(out, toInfo(objs.Index(i)))
		}
		if !res.Get("truncated").Truthy() {
			return out, nil
		}
		cursor = res.Get("cursor").String()
	}
}

func toInfo(obj js.Value) backupInfo {
	bi := backupInfo{Name: obj.Get("key").String(), Size: int64(obj.Get("size").Float())}
	if up := obj.Get("uploaded"); up.Type() == js.TypeObject {
		bi.Uploaded = up.Call("toISOString").String()
	}
	if et := obj.Get("etag"); et.Type() == js.TypeString {
		bi.ETag = et.String()
	}
	return bi
}
