//go:build !js

package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// StartTrace starts a Chrome trace, through DevTools' Tracing domain, of the
// given categories, from ctx, a Chromium tab's chromedp context
// (Tab.Context, or the bench's own). stop ends it and returns its events as
// raw JSON, which chrome://tracing and Perfetto read as {"traceEvents": …}.
// With "disabled-by-default-devtools.timeline" the events include Blink's
// v8.wasm.cachedModule and v8.wasm.moduleCacheHit (V8's wasm code cache).
func StartTrace(ctx context.Context, categories []string) (stop func() ([]json.RawMessage, error), err error) {
	var mu sync.Mutex
	var events []json.RawMessage
	complete := make(chan struct{})
	lctx, cancel := context.WithCancel(ctx)
	if err := chromedp.Listen(lctx, func(ev any) {
		switch ev := ev.(type) {
		case *tracing.EventDataCollected:
			mu.Lock()
			defer mu.Unlock()
			for _, v := range ev.Value {
				events = append(events, json.RawMessage(v))
			}
		case *tracing.EventTracingComplete:
			close(complete)
		}
	}); err != nil {
		cancel()
		return nil, err
	}
	if _, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{TraceConfig: &tracing.TraceConfig{IncludedCategories: categories}}); err != nil {
		cancel()
		return nil, err
	}
	return func() ([]json.RawMessage, error) {
		defer cancel()
		if _, err := chromedp.Call(ctx, tracing.End, cdp.Empty{}); err != nil {
			return nil, err
		}
		select {
		case <-complete:
		case <-time.After(time.Minute):
			return nil, errors.New("browsertest: the trace did not complete within a minute")
		}
		mu.Lock()
		defer mu.Unlock()
		return events, nil
	}, nil
}
