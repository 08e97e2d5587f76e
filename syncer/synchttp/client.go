package synchttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/larderdb/larder/syncer"
)

// HTTP is a Transport to the edge Worker at URL. Token is called before
// every request for the bearer JWT (a function, so an expiring token is
// refreshed by whoever owns it); Client is http.DefaultClient when nil.
// Under GOOS=js GOARCH=wasm, Go's net/http uses the browser's fetch, so
// the same Transport runs in the browser's worker.
type HTTP struct {
	URL    string
	Token  func(ctx context.Context) (string, error)
	Client *http.Client
}

var _ syncer.Transport = (*HTTP)(nil)

// syncer.Hello asks the server whether this device may sync, without sending
// anything: an *syncer.Error with CodeOutdated or CodeServerBehind when not.
func (h *HTTP) Hello(ctx context.Context, hello syncer.Hello) (syncer.ServerVersion, error) {
	var resp syncer.HelloResponse
	err := h.post(ctx, syncer.RouteHello, syncer.HelloRequest{Hello: hello}, &resp)
	return resp.Server, err
}

// Push implements Transport.
func (h *HTTP) Push(ctx context.Context, req syncer.PushRequest) (syncer.PushResponse, error) {
	var resp syncer.PushResponse
	err := h.post(ctx, syncer.RoutePush, req, &resp)
	return resp, err
}

// Pull implements Transport.
func (h *HTTP) Pull(ctx context.Context, req syncer.PullRequest) (syncer.PullResponse, error) {
	var resp syncer.PullResponse
	err := h.post(ctx, syncer.RoutePull, req, &resp)
	return resp, err
}

// post sends body as JSON to route and decodes a 200 answer into out; any
// other answer is an error: an *syncer.Error when the body carries a Larder code.
func (h *HTTP) post(ctx context.Context, route string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("sync: %s: %w", route, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(h.URL, "/")+route, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("sync: %s: %w", route, err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Every sync request is safe to send again (a pull reads; a push is
	// applied once per change id), so Go's transport may resend it on a
	// kept-alive connection the server had closed. A nil value marks the
	// request idempotent without sending the header (no CORS preflight
	// change).
	req.Header["Idempotency-Key"] = nil
	if h.Token != nil {
		tok, err := h.Token(ctx)
		if err != nil {
			return fmt.Errorf("sync: %s: token: %w", route, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sync: %s: %w", route, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, syncer.MaxBody+1))
	if err != nil {
		return fmt.Errorf("sync: %s: reading the answer: %w", route, err)
	}
	if len(data) > syncer.MaxBody {
		return fmt.Errorf("sync: %s: answer larger than %d bytes", route, syncer.MaxBody)
	}
	if res.StatusCode != http.StatusOK {
		var eb syncer.ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return &syncer.Error{Code: eb.Error.Code, Message: fmt.Sprintf("%s: %s (HTTP %d)", route, eb.Error.Message, res.StatusCode)}
		}
		return fmt.Errorf("sync: %s: HTTP %d: %.200s", route, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("sync: %s: the answer is not the JSON expected: %w", route, err)
	}
	return nil
}
