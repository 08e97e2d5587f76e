package syncer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// serveHTTP serves s over HTTP on loopback; the bearer token is the user's
// subject itself (the edge verifies a JWT instead).
func serveHTTP(t *testing.T, s *Server) string {
	t.Helper()
	var mu sync.Mutex // a ConnStore is one connection
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		HandleHTTP(w, r, s, strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func transport(url, sub string) *HTTP {
	return &HTTP{URL: url, Token: func(context.Context) (string, error) { return sub, nil }}
}

func TestHTTPTransportSyncsTwoDevices(t *testing.T) {
	s, _ := newServer(t, 0)
	url := serveHTTP(t, s)
	a, b := newDevice(t, 0), newDevice(t, 0)
	ctx := context.Background()
	a.exec("INSERT INTO items (id, owner, title, n, r, data) VALUES ('x', 'u1', 'hello', 1, 1.0, x'01')")
	if n, err := a.c.Sync(ctx, transport(url, "u1"), a.hello); err != nil || n.Pushed != 1 {
		t.Fatalf("a: %+v %v", n, err)
	}
	if n, err := b.c.Sync(ctx, transport(url, "u1"), b.hello); err != nil || n.Pulled != 1 || !slices.Equal(n.Tables, []string{"items"}) {
		t.Fatalf("b: %+v %v", n, err)
	}
	const q = "SELECT * FROM items"
	if got, want := dump(t, b.conn, q), dump(t, a.conn, q); got != want {
		t.Fatalf("b has %q, a has %q", got, want)
	}
	if v, err := transport(url, "u1").Hello(ctx, a.hello); err != nil || v != a.hello {
		t.Fatalf("hello: %+v %v", v, err)
	}
}

func TestHTTPTransportCarriesCodes(t *testing.T) {
	s, _ := newServer(t, 0)
	url := serveHTTP(t, s)
	old := newDevice(t, 2) // behind the breaking migration 3
	old.exec("INSERT INTO items (id, owner) VALUES ('x', 'u1')")
	_, err := old.c.Sync(context.Background(), transport(url, "u1"), old.hello)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeOutdated || !strings.Contains(e.Message, "HTTP 409") {
		t.Fatalf("err %v", err)
	}
	if p, _ := old.c.Pending(10); len(p) != 1 {
		t.Fatalf("outbox %+v", p)
	}
	// No subject: refused, whatever the body claims.
	d := newDevice(t, 0)
	d.exec("INSERT INTO items (id, owner) VALUES ('y', '')")
	_, err = d.c.Sync(context.Background(), transport(url, ""), d.hello)
	if !errors.As(err, &e) || e.Code != CodeForbidden {
		t.Fatalf("err %v", err)
	}
	res, err := http.Post(url+RoutePush, "application/json", strings.NewReader(`{"hello":{},"changes":[],"extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", res.StatusCode)
	}
}
