package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/syncer"
	"github.com/larderdb/larder/syncer/synchttp"
)

const syncApp = "../syncer/testdata/app"

// syncServer serves syncer's HTTP routes over a real SQLite database at
// migration to; the bearer token is the user's subject (the edge verifies
// a JWT instead). fail, when it returns true, answers 502 without a Larder
// body (a proxy in the way) before the request reaches the server.
func syncServer(t *testing.T, to int64, fail func(r *http.Request) bool) string {
	t.Helper()
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := msqlite.Harden(conn); err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(msqlite.NewStore(conn), syncMigs(t), migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background(), to); err != nil {
		t.Fatal(err)
	}
	store := syncer.NewConnStore(conn)
	t.Cleanup(func() { store.Close() })
	cfg, err := syncer.LoadDir(syncApp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := syncer.NewServer(context.Background(), store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // one connection
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail != nil && fail(r) {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		synchttp.HandleHTTP(w, r, s, strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func syncMigs(t *testing.T) []*migrations.Migration {
	t.Helper()
	migs, err := migrations.LoadDir(syncApp)
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

func syncText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(syncApp, "sync.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func httpAs(url, sub string) *synchttp.HTTP {
	return &synchttp.HTTP{URL: url, Token: func(context.Context) (string, error) { return sub, nil }}
}

// openSynced opens a device database on its own host at migration to.
func openSynced(t *testing.T, to int64) (*Database, *[]Event) {
	t.Helper()
	h, evs := newHost(t)
	var migs []*migrations.Migration
	for _, m := range syncMigs(t) {
		if to == 0 || m.Version <= to {
			migs = append(migs, m)
		}
	}
	d, _, err := h.Open(context.Background(), OpenOptions{Name: "app", Storage: "memory", Migrations: migs, Sync: syncText(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.CloseAll)
	return d, evs
}

func execT(t *testing.T, d *Database, sql string, args ...any) {
	t.Helper()
	if _, err := d.Exec(context.Background(), 0, sql, Params{Positional: args}); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func dumpT(t *testing.T, d *Database, sql string) string {
	t.Helper()
	_, rows := query(t, d, 0, sql, Params{})
	return fmt.Sprint(rows)
}

func changeTables(evs []Event) [][]string {
	var out [][]string
	for _, e := range evs {
		if e.Type == "change" {
			out = append(out, e.Tables)
		}
	}
	return out
}

// Two devices of one user converge through the HTTP routes; the receiving
// device's change event names the synced table the pull wrote, and nothing
// of sync's own bookkeeping.
func TestSyncTwoDevicesOverHTTP(t *testing.T) {
	ctx := context.Background()
	url := syncServer(t, 0, nil)
	a, _ := openSynced(t, 0)
	b, bEvents := openSynced(t, 0)
	execT(t, a, "INSERT INTO items (id, owner, title) VALUES ('x', 'u1', 'from a')")
	execT(t, b, "INSERT INTO items (id, owner, title) VALUES ('y', 'u1', 'from b')")
	if n, err := a.Sync(ctx, httpAs(url, "u1")); err != nil || n.Pushed != 1 {
		t.Fatalf("a: %+v %v", n, err)
	}
	before := len(*bEvents) // b pulls a's row and its own (the server's state of both)
	n, err := b.Sync(ctx, httpAs(url, "u1"))
	if err != nil || n.Pushed != 1 || n.Pulled != 2 || !slices.Equal(n.Tables, []string{"items"}) {
		t.Fatalf("b: %+v %v", n, err)
	}
	if got := changeTables((*bEvents)[before:]); len(got) != 1 || !slices.Equal(got[0], []string{"items"}) {
		t.Fatalf("b's change events after the round: %v", got)
	}
	if _, err := a.Sync(ctx, httpAs(url, "u1")); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT id, owner, title FROM items ORDER BY id"
	if ga, gb := dumpT(t, a, q), dumpT(t, b, q); ga != gb || !strings.Contains(ga, "from a") || !strings.Contains(ga, "from b") {
		t.Fatalf("a %s, b %s", ga, gb)
	}
	// A round with nothing to do fires no change event.
	before = len(*bEvents)
	if n, err := b.Sync(ctx, httpAs(url, "u1")); err != nil || n.Pushed+n.Pulled != 0 {
		t.Fatalf("idle round: %+v %v", n, err)
	}
	if got := changeTables((*bEvents)[before:]); len(got) != 0 {
		t.Fatalf("idle round fired %v", got)
	}
}

// A user's rows never reach another user; a write claiming another
// user's row is rejected and leaves the outbox.
func TestSyncOwnership(t *testing.T) {
	ctx := context.Background()
	url := syncServer(t, 0, nil)
	a, _ := openSynced(t, 0)
	b, _ := openSynced(t, 0)
	execT(t, a, "INSERT INTO items (id, owner, title) VALUES ('secret', 'u1', 'a only')")
	if _, err := a.Sync(ctx, httpAs(url, "u1")); err != nil {
		t.Fatal(err)
	}
	execT(t, b, "INSERT INTO items (id, owner, title) VALUES ('forged', 'u1', 'by u2')")
	n, err := b.Sync(ctx, httpAs(url, "u2"))
	if err != nil || len(n.Rejected) != 1 || n.Pulled != 0 {
		t.Fatalf("u2: %+v %v", n, err)
	}
	if got := dumpT(t, b, "SELECT id FROM items WHERE id = 'secret'"); got != "[]" {
		t.Fatalf("u2 sees %s", got)
	}
	if got := dumpT(t, b, "SELECT count(*) FROM _sync_outbox"); got != "[[0]]" {
		t.Fatalf("u2's outbox after the rejection: %s", got)
	}
}

// Errors carry syncer's codes: a device behind the server's breaking
// migration gets LARDER_OUTDATED and keeps its outbox (uploads nothing); a
// network failure is LARDER_HTTP_ERROR and the next round sends
// everything exactly once; a database opened without a declaration says so.
func TestSyncErrorCodes(t *testing.T) {
	ctx := context.Background()
	url := syncServer(t, 0, nil)
	old, _ := openSynced(t, 2)
	execT(t, old, "INSERT INTO items (id, owner) VALUES ('o', 'u1')")
	_, err := old.Sync(ctx, httpAs(url, "u1"))
	var e *Error
	if !errors.As(err, &e) || e.Code != syncer.CodeOutdated {
		t.Fatalf("old device: %v", err)
	}
	if got := dumpT(t, old, "SELECT count(DISTINCT hlc) FROM _sync_outbox"); got != "[[1]]" {
		t.Fatalf("old device's outbox: %s", got)
	}

	var down sync.Mutex
	cut := true
	url = syncServer(t, 0, func(*http.Request) bool { down.Lock(); defer down.Unlock(); return cut })
	d, _ := openSynced(t, 0)
	execT(t, d, "INSERT INTO items (id, owner) VALUES ('p', 'u1')")
	_, err = d.Sync(ctx, httpAs(url, "u1"))
	if !errors.As(err, &e) || e.Code != CodeHTTPError {
		t.Fatalf("cut: %v", err)
	}
	_, err = d.Sync(ctx, httpAs("http://127.0.0.1:1", "u1"))
	if !errors.As(err, &e) || e.Code != CodeHTTPError {
		t.Fatalf("refused connection: %v", err)
	}
	down.Lock()
	cut = false
	down.Unlock()
	if n, err := d.Sync(ctx, httpAs(url, "u1")); err != nil || n.Pushed != 1 {
		t.Fatalf("after the cut: %+v %v", n, err)
	}
	other, _ := openSynced(t, 0)
	if n, err := other.Sync(ctx, httpAs(url, "u1")); err != nil || n.Pulled != 1 {
		t.Fatalf("other device: %+v %v", n, err)
	}
	// No subject: refused, whatever the rows say; a body with an unknown
	// field is a 400, not a guess.
	nobody, _ := openSynced(t, 0)
	execT(t, nobody, "INSERT INTO items (id, owner) VALUES ('q', '')")
	if _, err := nobody.Sync(ctx, httpAs(url, "")); !errors.As(err, &e) || e.Code != syncer.CodeForbidden {
		t.Fatalf("no subject: %v", err)
	}
	res, err := http.Post(url+syncer.RoutePush, "application/json", strings.NewReader(`{"hello":{},"changes":[],"extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field: HTTP %d", res.StatusCode)
	}

	h, _ := newHost(t)
	plain, _, err := h.Open(ctx, OpenOptions{Name: "plain", Storage: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.CloseAll()
	if _, err := plain.Sync(ctx, httpAs(url, "u1")); !errors.As(err, &e) || e.Code != CodeNoSync {
		t.Fatalf("no declaration: %v", err)
	}
	// A declaration that does not fit the schema fails the open, naming the table.
	_, _, err = h.Open(ctx, OpenOptions{Name: "bad", Storage: "memory", Sync: "[tables.nosuch]\nowner = \"owner\"\n"})
	if !errors.As(err, &e) || e.Code != CodeInvalidArgument || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("bad declaration: %v", err)
	}
}

// A transaction the page holds open is not broken by a round: the round
// waits for the gate, and the page's writes are pushed by the next round.
func TestSyncWaitsForTransaction(t *testing.T) {
	ctx := context.Background()
	url := syncServer(t, 0, nil)
	d, _ := openSynced(t, 0)
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, tx, "INSERT INTO items (id, owner) VALUES ('t', 'u1')", Params{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := d.Sync(ctx, httpAs(url, "u1")); done <- err }()
	if err := d.Commit(tx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sync(ctx, httpAs(url, "u1")); err != nil {
		t.Fatal(err)
	}
	if got := dumpT(t, d, "SELECT count(*) FROM _sync_outbox"); got != "[[0]]" {
		t.Fatalf("outbox: %s", got)
	}
	other, _ := openSynced(t, 0)
	if n, err := other.Sync(ctx, httpAs(url, "u1")); err != nil || n.Pulled != 1 {
		t.Fatalf("other: %+v %v", n, err)
	}
}

// A database opened for serving without a declaration (the new owner of a
// takeover) gets its sync client from InstallSync on the first round; the
// rows written before are queued, and a second InstallSync is a no-op.
func TestInstallSyncLater(t *testing.T) {
	ctx := context.Background()
	url := syncServer(t, 0, nil)
	h, _ := newHost(t)
	defer h.CloseAll()
	d, _, err := h.Open(ctx, OpenOptions{Name: "app", Storage: "memory", Migrations: syncMigs(t)})
	if err != nil {
		t.Fatal(err)
	}
	execT(t, d, "INSERT INTO items (id, owner) VALUES ('before', 'u1')")
	for range 2 {
		if err := d.InstallSync(ctx, syncText(t)); err != nil {
			t.Fatal(err)
		}
	}
	execT(t, d, "INSERT INTO items (id, owner) VALUES ('after', 'u1')")
	if n, err := d.Sync(ctx, httpAs(url, "u1")); err != nil || n.Pushed != 2 {
		t.Fatalf("%+v %v", n, err)
	}
}
