//go:build js

package jsbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/syncer"
)

// fetchTransport is the sync Transport of the browser's worker: the edge's
// routes (syncer.RouteHello, RoutePush, RoutePull) over the worker's own
// fetch, with the bearer token the page fetched for the round. It is
// synchttp.HTTP without Go's net/http client, which would add megabytes to
// larder.wasm for what one fetch call does.
type fetchTransport struct {
	url, token string
}

var _ syncer.Transport = fetchTransport{}

func (f fetchTransport) Push(ctx context.Context, req syncer.PushRequest) (resp syncer.PushResponse, err error) {
	err = f.post(syncer.RoutePush, req, &resp)
	return resp, err
}

func (f fetchTransport) Pull(ctx context.Context, req syncer.PullRequest) (resp syncer.PullResponse, err error) {
	err = f.post(syncer.RoutePull, req, &resp)
	return resp, err
}

// post sends body to route and decodes a 200 answer into out. An answer
// with a Larder error body is a *syncer.Error with its code; anything else
// (a refused connection, a proxy's page) is a plain error, which the
// engine reports as LARDER_HTTP_ERROR.
func (f fetchTransport) post(route string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	headers := jsutil.Object()
	headers.Set("Content-Type", "application/json")
	if f.token != "" {
		headers.Set("Authorization", "Bearer "+f.token)
	}
	init := jsutil.Object()
	init.Set("method", "POST")
	init.Set("headers", headers)
	init.Set("body", string(b))
	init.Set("cache", "no-store")
	p, err := jsutil.Call(jsutil.Global(), "fetch", strings.TrimSuffix(f.url, "/")+route, init)
	if err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	res, err := jsutil.Await(p)
	if err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	status := res.Get("status").Int()
	tp, err := jsutil.Call(res, "text")
	if err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	text, err := jsutil.Await(tp)
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", route, err)
	}
	data := []byte(text.String())
	if status != 200 {
		var eb syncer.ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return &syncer.Error{Code: eb.Error.Code, Message: fmt.Sprintf("%s: %s (HTTP %d)", route, eb.Error.Message, status)}
		}
		return fmt.Errorf("%s: HTTP %d: %.200s", route, status, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: the answer is not the JSON expected: %w", route, err)
	}
	return nil
}
