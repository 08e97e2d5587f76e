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
	"time"

	"github.com/syumai/workers/cloudflare"

	"github.com/larderdb/larder/edge/auth"
	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/migrations/d1"
)

// Binding names, as in wrangler.toml.
const (
	d1Binding = "DB"
	r2Binding = "BACKUPS"
)

// isolatePrefix prefixes the JS globals that hold the isolate's state. Go
// globals do not survive a request (each request starts a fresh Go
// instance); JavaScript globals live as long as the isolate.
const isolatePrefix = "__larder_"

// jsEnv is the Worker's environment.
type jsEnv struct{}

func (jsEnv) DB() (d1.Conn, error) { return openD1(d1Binding) }

func (jsEnv) Getenv(name string) string { return cloudflare.Getenv(name) }

func (jsEnv) Isolate() auth.State { return isolateState{} }

// invoke calls fn(args...), turning a thrown exception into an error.
func invoke(fn js.Value, args ...any) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return fn.Invoke(args...), nil
}

// isolateState keeps strings in JS globals of the isolate.
type isolateState struct{}

func (isolateState) Get(key string) string {
	v := js.Global().Get(isolatePrefix + key)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func (isolateState) Set(key, value string) { js.Global().Set(isolatePrefix+key, value) }

// fetchTimeout bounds Fetch (a JWKS download).
const fetchTimeout = 5 * time.Second

// Fetch GETs url with the Worker's fetch().
func (jsEnv) Fetch(ctx context.Context, url string) ([]byte, error) {
	init := map[string]any{"headers": map[string]any{"Accept": "application/json"}}
	if as := js.Global().Get("AbortSignal"); as.Type() == js.TypeFunction && as.Get("timeout").Type() == js.TypeFunction {
		init["signal"] = as.Call("timeout", fetchTimeout.Milliseconds())
	}
	// fetch is invoked unbound, as syumai's fetch package does: workerd
	// refuses it with Go's global object as this ("Illegal invocation").
	p, err := invoke(js.Global().Get("fetch"), url, init)
	if err != nil {
		return nil, err
	}
	res, err := jsutil.Await(p)
	if err != nil {
		return nil, err
	}
	if st := res.Get("status").Int(); st != 200 {
		return nil, fmt.Errorf("HTTP %d", st)
	}
	if p, err = jsutil.Call(res, "text"); err != nil {
		return nil, err
	}
	text, err := jsutil.Await(p)
	if err != nil {
		return nil, err
	}
	return []byte(text.String()), nil
}

func (jsEnv) Backups() (backupStore, error) {
	b := cloudflare.GetBinding(r2Binding)
	if b.Type() != js.TypeObject || b.Get("put").Type() != js.TypeFunction {
		return nil, fmt.Errorf("no R2 binding %q in the Worker's environment (see wrangler.toml)", r2Binding)
	}
	return r2Store{b}, nil
}

// r2Store keeps backups in an R2 bucket
// (https://developers.cloudflare.com/r2/api/workers/workers-api-reference/),
// one object per backup. It calls the binding directly: syumai's
// r2.Bucket has no conditional put and its List has no cursor.
type r2Store struct{ bucket js.Value }

// onlyIf is R2's precondition for cond, as HTTP headers (R2 takes them).
func onlyIf(cond putCondition) js.Value {
	h := js.Global().Get("Headers").New()
	if cond.IfMatch != "" {
		h.Call("set", "If-Match", cond.IfMatch)
	}
	if cond.IfNoneMatch != "" {
		h.Call("set", "If-None-Match", cond.IfNoneMatch)
	}
	return h
}

func (s r2Store) Put(ctx context.Context, key string, data []byte, info imageInfo, cond putCondition, keepAs func(backupInfo) string) (backupInfo, error) {
	if cond.IfMatch != "" {
		// Keep the version about to be replaced: read it under the same
		// precondition and copy it (inside JS, not through Go's memory).
		p, err := jsutil.Call(s.bucket, "get", key, map[string]any{"onlyIf": onlyIf(cond)})
		if err != nil {
			return backupInfo{}, err
		}
		old, err := jsutil.Await(p)
		if err != nil {
			return backupInfo{}, err
		}
		if old.Type() != js.TypeObject || old.Get("body").Type() != js.TypeObject {
			return backupInfo{}, errPrecondition // gone, or not at that ETag
		}
		if p, err = jsutil.Call(old, "arrayBuffer"); err != nil {
			return backupInfo{}, err
		}
		buf, err := jsutil.Await(p)
		if err != nil {
			return backupInfo{}, err
		}
		if p, err = jsutil.Call(s.bucket, "put", keepAs(toInfo(old)), buf, map[string]any{
			"httpMetadata":   old.Get("httpMetadata"),
			"customMetadata": old.Get("customMetadata"),
		}); err != nil {
			return backupInfo{}, err
		}
		if _, err := jsutil.Await(p); err != nil {
			return backupInfo{}, fmt.Errorf("keeping the previous version: %w", err)
		}
	}
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	opts := map[string]any{
		"onlyIf":       onlyIf(cond),
		"httpMetadata": map[string]any{"contentType": "application/vnd.sqlite3"},
		"customMetadata": map[string]any{
			"pageSize": strconv.Itoa(info.PageSize),
			"pages":    strconv.Itoa(info.Pages),
		},
	}
	p, err := jsutil.Call(s.bucket, "put", key, u8, opts)
	if err != nil {
		return backupInfo{}, err
	}
	obj, err := jsutil.Await(p)
	if err != nil {
		return backupInfo{}, err
	}
	if obj.Type() != js.TypeObject {
		return backupInfo{}, errPrecondition // R2 answers null when onlyIf fails
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

func (s r2Store) List(ctx context.Context, prefix string) ([]backupInfo, error) {
	var out []backupInfo
	cursor := ""
	for {
		opts := map[string]any{"limit": 1000, "prefix": prefix}
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
