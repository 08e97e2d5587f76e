package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// The server's own tables, beside the synced ones that the migrations
// made. _sync_meta holds the server sequence; _sync_seen every change id
// ever accepted, per user (idempotency; per user so that nobody can claim
// the id of another user's future change); _sync_rows one line per synced row: the
// sequence of its last change, its owner (owner-rule tables) and, once
// deleted, the HLC of the delete (a tombstone, kept for good) with the
// row's last image for where-rule tables; _sync_clock the HLC of the
// write that set each column; _sync_extra values of columns the server's
// schema does not have yet (sent by a device ahead of it). _sync_guard is
// always empty: a batch inserts into it a row that fails its CHECK when
// another batch moved the sequence first, so concurrent pushes never
// interleave (the batch fails and the device retries).
const serverTables = `
CREATE TABLE IF NOT EXISTS _sync_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO _sync_meta (k, v) VALUES ('seq', 0);
CREATE TABLE IF NOT EXISTS _sync_guard (expect INTEGER NOT NULL, actual INTEGER, CONSTRAINT _sync_guard CHECK (expect IS actual));
CREATE TABLE IF NOT EXISTS _sync_seen (sub TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (sub, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _sync_rows (
  tbl TEXT NOT NULL, pk TEXT NOT NULL, seq INTEGER NOT NULL, owner TEXT, deleted TEXT, image TEXT,
  PRIMARY KEY (tbl, pk));
CREATE UNIQUE INDEX IF NOT EXISTS _sync_rows_seq ON _sync_rows (seq);
CREATE INDEX IF NOT EXISTS _sync_rows_owner ON _sync_rows (owner, tbl, seq);
CREATE INDEX IF NOT EXISTS _sync_rows_tbl ON _sync_rows (tbl, seq);
CREATE TABLE IF NOT EXISTS _sync_clock (tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, hlc TEXT NOT NULL,
  PRIMARY KEY (tbl, pk, col)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _sync_extra (tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT NOT NULL, val,
  PRIMARY KEY (tbl, pk, col)) WITHOUT ROWID;
`

// Server is the edge side of sync: it merges pushed changes into the
// database and serves each user the rows they may see. It runs over a
// Store: SQLite natively, D1 in the Worker.
type Server struct {
	db     Store
	schema *Schema
	budget int // see WithPushBudget
}

// WithPushBudget sets how many Store calls a push may make before it
// answers the changes merged so far (PushBudget by default). The edge sets
// it from SYNC_PUSH_BUDGET, for a plan that allows fewer D1 calls per
// Worker invocation.
func (s *Server) WithPushBudget(n int) *Server {
	s.budget = n
	return s
}

func (s *Server) pushBudget() int {
	if s.budget > 0 {
		return s.budget
	}
	return PushBudget
}

// NewServer checks cfg against the database's schema and creates the
// server's tables: Prepare, then Serve.
func NewServer(ctx context.Context, db Store, cfg *Config) (*Server, error) {
	schema, err := Prepare(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	return Serve(db, schema), nil
}

// Prepare checks cfg against the database's schema, creates the server's
// tables and moves values kept in _sync_extra into columns a migration has
// since added. It is needed once after each migration of the server's
// database; the edge runs it once per isolate and bundle, keeps the Schema
// (it marshals to JSON) and builds each request's Server with Serve.
func Prepare(ctx context.Context, db Store, cfg *Config) (*Schema, error) {
	schema, err := Check(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	var stmts []Stmt
	for _, sql := range strings.Split(serverTables, ";\n") {
		if sql = strings.TrimSpace(sql); sql != "" {
			stmts = append(stmts, Stmt{SQL: sql})
		}
	}
	if err := db.Exec(ctx, stmts); err != nil {
		return nil, fmt.Errorf("sync: create server tables: %w", err)
	}
	if err := Serve(db, schema).foldExtras(ctx); err != nil {
		return nil, err
	}
	return schema, nil
}

// Serve returns the Server over db for a schema that Prepare returned for
// the same database (in this process or an earlier one).
func Serve(db Store, schema *Schema) *Server {
	return &Server{db: db, schema: schema}
}

// foldExtras moves values kept in _sync_extra into their table once a
// migration has added the column: a column a device knew before the
// server is not lost when the server catches up.
func (s *Server) foldExtras(ctx context.Context) error {
	var stmts []Stmt
	for _, name := range s.schema.Config.TableNames() {
		t := s.schema.Tables[name]
		extras, err := s.db.Query(ctx, "SELECT pk, col, "+typed("val")+" FROM _sync_extra WHERE tbl = ?", name)
		if err != nil {
			return fmt.Errorf("sync: read _sync_extra: %w", err)
		}
		for _, e := range extras {
			pk, col := e[0].(string), e[1].(string)
			if !t.has(col) {
				continue
			}
			v, err := untyped(e[2])
			if err != nil {
				return fmt.Errorf("sync: _sync_extra %s %s %s: %w", name, pk, col, err)
			}
			stmts = append(stmts,
				Stmt{fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", quote(name), quote(col), quote(t.PK)), []any{v, pk}},
				Stmt{"DELETE FROM _sync_extra WHERE tbl = ? AND pk = ? AND col = ?", []any{name, pk, col}})
		}
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := s.db.Exec(ctx, stmts); err != nil {
		return fmt.Errorf("sync: fold _sync_extra into new columns: %w", err)
	}
	return nil
}

// Version reads the server's migration state from _migrations.
func (s *Server) Version(ctx context.Context) (ServerVersion, error) {
	rows, err := s.db.Query(ctx, "SELECT coalesce(max(version), 0), coalesce(max(CASE WHEN breaking THEN version END), 0) FROM _migrations")
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return ServerVersion{}, nil
		}
		return ServerVersion{}, fmt.Errorf("sync: read _migrations: %w", err)
	}
	return ServerVersion{Version: asInt(rows[0][0]), Breaking: asInt(rows[0][1])}, nil
}

func (s *Server) hello(ctx context.Context, h Hello) (ahead bool, err error) {
	ahead, _, err = s.helloSeq(ctx, h)
	return ahead, err
}

// helloSeq checks h against the server's migrations and reads the server
// sequence, in one query (a round trip on D1).
func (s *Server) helloSeq(ctx context.Context, h Hello) (ahead bool, seq int64, err error) {
	rows, err := s.db.Query(ctx, `SELECT coalesce(max(version), 0), coalesce(max(CASE WHEN breaking THEN version END), 0),
		(SELECT v FROM _sync_meta WHERE k = 'seq') FROM _migrations`)
	var v ServerVersion
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table: _migrations"):
		// A database not made by migrations (tests): version 0.
		if rows, err = s.db.Query(ctx, "SELECT v FROM _sync_meta WHERE k = 'seq'"); err != nil || len(rows) == 0 {
			return false, 0, fmt.Errorf("sync: read sequence: %v", err)
		}
		seq = asInt(rows[0][0])
	case err != nil:
		return false, 0, fmt.Errorf("sync: read _migrations and sequence: %w", err)
	default:
		v = ServerVersion{Version: asInt(rows[0][0]), Breaking: asInt(rows[0][1])}
		seq = asInt(rows[0][2])
	}
	if err := CheckVersions(h, v); err != nil {
		return false, 0, err
	}
	return h.Version > v.Version, seq, nil
}

// MaxBatch is the most changes one push may carry.
const MaxBatch = 500

// Push merges a batch of the user sub's changes, in order, and writes the
// outcome in one atomic Exec. Per change: a change id seen before is a
// Duplicate; a row the user cannot see, or a write that would make the row
// someone else's, is Rejected (CodeForbidden); a change to a deleted row is
// accepted and changes nothing (deletes win); otherwise each column takes
// the value of the newest HLC (last writer wins), and the change gets the
// next server sequence. Columns the server does not know are refused by
// name, unless the device is ahead of the server by non-breaking
// migrations: then they are kept in _sync_extra and served back.
func (s *Server) Push(ctx context.Context, sub string, req PushRequest) (PushResponse, error) {
	if sub == "" {
		return PushResponse{}, &Error{CodeForbidden, "push: no user subject"}
	}
	if len(req.Changes) > MaxBatch {
		return PushResponse{}, &Error{CodeInvalid, fmt.Sprintf("push: %d changes, at most %d per batch", len(req.Changes), MaxBatch)}
	}
	ahead, seq, err := s.helloSeq(ctx, req.Hello)
	if err != nil {
		return PushResponse{}, err
	}
	// Count the statements: a Worker may make only so many D1 calls per
	// request, and where-rule tables cost a few per change. Past the
	// budget the push answers the changes merged so far; the device sends
	// the rest in its next request.
	counted := &budgetStore{Store: s.db, max: s.pushBudget()}
	s = &Server{db: counted, schema: s.schema}
	m, err := s.newMergeAt(ctx, sub, ahead, seq, req.Changes)
	if err != nil {
		return PushResponse{}, err
	}
	if err := m.preload(ctx, req.Changes); err != nil {
		return PushResponse{}, err
	}
	for i, ch := range req.Changes {
		if counted.spent() && i > 0 {
			req.Changes = req.Changes[:i]
			break
		}
		if err := m.apply(ctx, ch); isConstraint(err) {
			return s.pushEach(ctx, sub, ahead, req.Changes[:i+1])
		} else if err != nil {
			return PushResponse{}, err
		}
	}
	err = m.flush(ctx)
	if isConstraint(err) {
		// A change the database refuses (a constraint of the schema) must
		// not block the others: merge again one change at a time and
		// reject the ones that fail.
		return s.pushEach(ctx, sub, ahead, req.Changes)
	}
	if err != nil {
		return PushResponse{}, err
	}
	m.resp.Seq = m.seq
	return m.resp, nil
}

// PushBudget is the default number of Store calls (queries and Execs) one
// Push may make: Cloudflare allows a Worker invocation 1,000 D1 calls (50
// on the Free plan: see WithPushBudget). A push of owner-rule changes
// stays far below it; where-rule changes cost a few calls each.
const PushBudget = 400

// budgetStore counts the calls made through it.
type budgetStore struct {
	Store
	n, max int
}

// spent reports whether starting another change could pass the budget: a
// change costs up to about ten calls (a where-rule change, flushed).
func (c *budgetStore) spent() bool { return c.n+10 > c.max }

func (c *budgetStore) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	c.n++
	return c.Store.Query(ctx, sql, args...)
}

func (c *budgetStore) Exec(ctx context.Context, stmts []Stmt) error {
	c.n++
	return c.Store.Exec(ctx, stmts)
}

func (s *Server) pushEach(ctx context.Context, sub string, ahead bool, changes []Change) (PushResponse, error) {
	m, err := s.newMerge(ctx, sub, ahead, changes)
	if err != nil {
		return PushResponse{}, err
	}
	counted, _ := s.db.(*budgetStore)
	for i, ch := range changes {
		if counted != nil && counted.spent() && i > 0 {
			break // the device sends the rest again
		}
		if err := m.apply(ctx, ch); err != nil {
			return PushResponse{}, err
		}
		switch err := m.flush(ctx); {
		case isConstraint(err):
			m.discard()
			served, rerr := m.revert(ctx, ch)
			if rerr != nil {
				return PushResponse{}, rerr
			}
			m.reject(ch, CodeInvalid, err.Error(), !served)
		case err != nil:
			return PushResponse{}, err
		}
	}
	m.resp.Seq = m.seq
	return m.resp, nil
}

func (m *merge) validate(ch Change) *Rejection {
	bad := func(format string, args ...any) *Rejection {
		return &Rejection{ID: ch.ID, Code: CodeInvalid, Message: fmt.Sprintf(format, args...), Table: ch.Table, PK: ch.PK}
	}
	if _, err := ParseHLC(ch.ID); err != nil {
		return bad("change id: %v", err)
	}
	t := m.s.schema.Tables[ch.Table]
	switch {
	case t == nil:
		return bad("table %q does not sync", ch.Table)
	case ch.PK == "":
		return bad("table %s: empty primary key", ch.Table)
	case ch.Op != OpInsert && ch.Op != OpUpdate && ch.Op != OpDelete:
		return bad("op %q: want insert, update or delete", ch.Op)
	}
	var unknown []string
	for col := range ch.Cols {
		if !t.has(col) && (!m.ahead || col == t.PK || col == "") {
			unknown = append(unknown, col)
		}
	}
	if len(unknown) > 0 {
		return bad("table %s has no column %s", ch.Table, strings.Join(unknown, ", "))
	}
	return nil
}

// isConstraint reports whether err is the schema refusing a write (a
// constraint of the synced table), as opposed to a failure worth retrying.
func isConstraint(err error) bool {
	var conflict *conflictError
	if err == nil || errors.As(err, &conflict) {
		return false
	}
	return errors.Is(err, sqlite3.CONSTRAINT) || strings.Contains(err.Error(), "constraint failed")
}
