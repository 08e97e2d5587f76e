package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Routes of the edge Worker, relative to its base URL. Each takes a JSON
// body by POST and answers JSON (see docs/sync.md#the-wire).
const (
	RouteHello = "/sync/hello" // HelloRequest → HelloResponse
	RoutePush  = "/sync/push"  // PushRequest → PushResponse
	RoutePull  = "/sync/pull"  // PullRequest → PullResponse
)

// HelloRequest asks the server whether this device may sync.
type HelloRequest struct {
	Hello Hello `json:"hello"`
}

// HelloResponse is the server's migration state; it is only sent when the
// device may sync (otherwise the answer is an error with its code).
type HelloResponse struct {
	Server ServerVersion `json:"server"`
}

// ErrorBody is every error the edge answers: {"error": {code, message}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// MaxBody bounds a request or answer body of the sync routes (a push of
// MaxBatch changes, a pull page of MaxPage rows).
const MaxBody = 16 << 20

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

var _ Transport = (*HTTP)(nil)

// Hello asks the server whether this device may sync, without sending
// anything: an *Error with CodeOutdated or CodeServerBehind when not.
func (h *HTTP) Hello(ctx context.Context, hello Hello) (ServerVersion, error) {
	var resp HelloResponse
	err := h.post(ctx, RouteHello, HelloRequest{hello}, &resp)
	return resp.Server, err
}

// Push implements Transport.
func (h *HTTP) Push(ctx context.Context, req PushRequest) (PushResponse, error) {
	var resp PushResponse
	err := h.post(ctx, RoutePush, req, &resp)
	return resp, err
}

// Pull implements Transport.
func (h *HTTP) Pull(ctx context.Context, req PullRequest) (PullResponse, error) {
	var resp PullResponse
	err := h.post(ctx, RoutePull, req, &resp)
	return resp, err
}

// post sends body as JSON to route and decodes a 200 answer into out; any
// other answer is an error: an *Error when the body carries a Larder code.
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
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxBody+1))
	if err != nil {
		return fmt.Errorf("sync: %s: reading the answer: %w", route, err)
	}
	if len(data) > MaxBody {
		return fmt.Errorf("sync: %s: answer larger than %d bytes", route, MaxBody)
	}
	if res.StatusCode != http.StatusOK {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return &Error{Code: eb.Error.Code, Message: fmt.Sprintf("%s: %s (HTTP %d)", route, eb.Error.Message, res.StatusCode)}
		}
		return fmt.Errorf("sync: %s: HTTP %d: %.200s", route, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("sync: %s: the answer is not the JSON expected: %w", route, err)
	}
	return nil
}
