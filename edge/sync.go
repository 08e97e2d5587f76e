package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"

	"github.com/larderdb/larder/migrations/d1"
	"github.com/larderdb/larder/syncer"
	"github.com/larderdb/larder/syncer/synchttp"
)

// syncSchemaKey is the isolate state holding the checked sync schema: the
// server's tables are created (syncer.Prepare) once per isolate and
// bundle, after the migrations, not on every request.
const syncSchemaKey = "sync-schema"

// syncDB is what the sync store needs of D1: batch() for atomic writes and
// raw() for reads (rows as arrays, in column order).
type syncDB interface {
	d1.Conn
	Raw(ctx context.Context, st d1.Statement) ([][]any, error)
}

// d1SyncStore is the syncer.Store over the D1 binding: Exec is one
// batch(), which D1 runs as one transaction (all or nothing); Query is one
// raw(). Numbers are JavaScript numbers both ways: the syncer reads the
// synced columns through typed selects, so storage classes survive.
type d1SyncStore struct{ db syncDB }

var _ syncer.Store = d1SyncStore{}

// syncArgs converts parameters for D1. An integer beyond 2^53 does not fit
// a JavaScript number: it is bound as its decimal digits, which a column
// of INTEGER affinity stores as that exact integer (see docs/sync.md).
func syncArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if n, ok := a.(int64); ok && (n > 1<<53 || n < -(1<<53)) {
			out[i] = strconv.FormatInt(n, 10)
			continue
		}
		out[i] = a
	}
	return out
}

func (s d1SyncStore) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	return s.db.Raw(ctx, d1.Statement{SQL: sql, Args: syncArgs(args)})
}

func (s d1SyncStore) Exec(ctx context.Context, stmts []syncer.Stmt) error {
	batch := make([]d1.Statement, len(stmts))
	for i, st := range stmts {
		batch[i] = d1.Statement{SQL: st.SQL, Args: syncArgs(st.Args)}
	}
	_, err := s.db.Batch(ctx, batch)
	return err
}

// parseSyncConfig reads the embedded sync.toml: one with nothing but
// comments (the committed placeholder, or a project without one) means
// this Worker does not sync.
func parseSyncConfig(data []byte) (*syncer.Config, string, error) {
	empty := true
	for line := range strings.Lines(string(data)) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			empty = false
			break
		}
	}
	if empty {
		return nil, "", nil
	}
	cfg, err := syncer.Parse(data)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return cfg, hex.EncodeToString(sum[:16]), nil
}

// syncRoute answers POST /sync/hello, /sync/push and /sync/pull for the
// authenticated user: ownership is the token's subject, never the body.
func (s *server) syncRoute(w http.ResponseWriter, r *http.Request) {
	if s.syncCfg == nil {
		writeJSONError(w, http.StatusNotFound, "LARDER_SYNC_OFF",
			"this Worker does not sync: put a sync.toml beside the migrations (EDGE_MIGRATIONS) and rebuild with make edge-build", nil)
		return
	}
	if err := s.migrateErr(r); err != nil {
		setRetryAfter(w, err)
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	srv, err := s.syncServer(r.Context())
	if errors.Is(err, syncer.ErrSchema) {
		writeJSONError(w, http.StatusInternalServerError, "LARDER_SYNC_SCHEMA", err.Error(), nil)
		return
	}
	if err != nil {
		log.Printf("larder: sync: %v", err)
		writeJSONError(w, http.StatusInternalServerError, "LARDER_ERROR", err.Error(), nil)
		return
	}
	if v := s.env.Getenv("SYNC_PUSH_BUDGET"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minPushBudget {
			writeJSONError(w, http.StatusInternalServerError, "LARDER_SYNC_MISCONFIGURED",
				fmt.Sprintf("SYNC_PUSH_BUDGET=%q: want a whole number of D1 calls, at least %d (45 fits the Workers Free plan's 50)", v, minPushBudget), nil)
			return
		}
		srv.WithPushBudget(n)
	}
	synchttp.HandleHTTP(w, r, srv, userOf(r.Context()).Sub)
}

// minPushBudget is the least SYNC_PUSH_BUDGET: the reads of a push and
// one change.
const minPushBudget = 30

// syncServer builds this request's syncer.Server. The first request of an
// isolate (per bundle and sync.toml) checks the declaration against D1's
// schema and creates the server's tables; later ones reuse the schema kept
// in the isolate.
func (s *server) syncServer(ctx context.Context) (*syncer.Server, error) {
	conn, err := s.env.DB()
	if err != nil {
		return nil, err
	}
	db, ok := conn.(syncDB)
	if !ok {
		return nil, fmt.Errorf("sync: the D1 connection %T has no raw()", conn)
	}
	store := d1SyncStore{db}
	id := s.bundleID + "/" + s.syncID
	type kept struct {
		ID     string         `json:"id"`
		Schema *syncer.Schema `json:"schema"`
	}
	st := s.env.Isolate()
	var k kept
	if b := st.Get(syncSchemaKey); b != "" && json.Unmarshal([]byte(b), &k) == nil && k.ID == id && k.Schema != nil {
		return syncer.Serve(store, k.Schema), nil
	}
	schema, err := syncer.Prepare(ctx, store, s.syncCfg)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(kept{id, schema}); err == nil {
		st.Set(syncSchemaKey, string(b))
	}
	return syncer.Serve(store, schema), nil
}
