package engine

import (
	"bytes"
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/larderdb/larder/migrations"
)

func newHost(t *testing.T) (*Host, *[]Event) {
	t.Helper()
	h, err := NewHost(map[string]Storage{"memory": NewMemory()}, []string{"memory"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	evs := &[]Event{}
	h.OnEvent = func(_ string, ev Event) { mu.Lock(); *evs = append(*evs, ev); mu.Unlock() }
	return h, evs
}

func mig(v int64, name, up string) *migrations.Migration {
	return &migrations.Migration{Version: v, Name: name, Up: up, Checksum: migrations.Checksum(up), UpLine: 1}
}

func query(t *testing.T, d *Database, tx uint64, sql string, p Params) ([]string, [][]any) {
	t.Helper()
	b, err := d.Query(context.Background(), tx, sql, p)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	cols, rows, err := DecodeRows(b)
	if err != nil {
		t.Fatal(err)
	}
	return cols, rows
}

func TestOpenMigratesOnceAndValidates(t *testing.T) {
	ctx := context.Background()
	h, evs := newHost(t)
	m1 := mig(1, "init", "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);")
	d, res, err := h.Open(ctx, OpenOptions{Name: "app", Storage: "auto", Migrations: []*migrations.Migration{m1}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Storage != "memory" || res.Version != 1 || len(res.Applied) != 1 {
		t.Fatalf("open result %+v", res)
	}
	if len(*evs) != 1 || (*evs)[0].Type != "versionchange" || (*evs)[0].To != 1 {
		t.Fatalf("events %+v", *evs)
	}
	if _, err := d.Exec(ctx, 0, "INSERT INTO note(body) VALUES (?)", Params{Positional: []any{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Close("app"); err != nil {
		t.Fatal(err)
	}
	// Reopen: nothing applied, data still there (memory lives as long as the host).
	d, res, err = h.Open(ctx, OpenOptions{Name: "app", Storage: "memory", Migrations: []*migrations.Migration{m1}})
	if err != nil || len(res.Applied) != 0 || res.Version != 1 {
		t.Fatalf("reopen: %+v %v", res, err)
	}
	_, rows := query(t, d, 0, "SELECT body FROM note", Params{})
	if len(rows) != 1 || rows[0][0] != "a" {
		t.Fatalf("rows %v", rows)
	}
	h.Close("app")
	// Edited migration: checksum mismatch, data intact.
	edited := mig(1, "init", "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT, x);")
	_, _, err = h.Open(ctx, OpenOptions{Name: "app", Storage: "memory", Migrations: []*migrations.Migration{edited}})
	if c := Classify(err).Code; c != "LARDER_CHECKSUM_MISMATCH" {
		t.Fatalf("edited: code %q (%v)", c, err)
	}
	// Failing migration names itself and leaves version 1.
	bad := mig(2, "bad", "CREATE TABLE t2(x);\nINSERT INTO nope VALUES (1);")
	_, _, err = h.Open(ctx, OpenOptions{Name: "app", Storage: "memory", Migrations: []*migrations.Migration{m1, bad}})
	e := Classify(err)
	if e.Code != "LARDER_MIGRATION_FAILED" || e.Migration == nil || e.Migration.Version != 2 || e.Migration.Name != "bad" {
		t.Fatalf("failing: %+v", e)
	}
	d, res, err = h.Open(ctx, OpenOptions{Name: "app", Storage: "memory", Migrations: []*migrations.Migration{m1}})
	if err != nil || res.Version != 1 {
		t.Fatalf("after failure: %+v %v", res, err)
	}
	_, rows = query(t, d, 0, "SELECT count(*) FROM sqlite_schema WHERE name = 't2'", Params{})
	if rows[0][0] != float64(0) {
		t.Fatalf("t2 exists after failed migration")
	}
}

func TestValuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t)
	d, _, err := h.Open(ctx, OpenOptions{Name: "v", Storage: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte{1, 2, 3}, 1000)
	big := int64(1<<53 + 1)
	cols, rows := query(t, d, 0, "SELECT NULL AS a, ?1 AS b, ?2 AS c, ?3 AS d, ?4 AS e, 42 AS f", Params{Positional: []any{big, 1.5, "héllo ☃", blob}})
	if len(cols) != 6 || cols[1] != "b" {
		t.Fatalf("cols %v", cols)
	}
	r := rows[0]
	if r[0] != nil || r[1] != big || r[2] != 1.5 || r[3] != "héllo ☃" || !bytes.Equal(r[4].([]byte), blob) || r[5] != float64(42) {
		t.Fatalf("row %#v", r)
	}
	_, rows = query(t, d, 0, "SELECT :id + 1, @x, $y", Params{Named: map[string]any{"id": int64(1), "x": "x", "y": math.Pi}})
	if rows[0][0] != float64(2) || rows[0][1] != "x" || rows[0][2] != math.Pi {
		t.Fatalf("named %v", rows)
	}
	if _, err := d.Query(ctx, 0, "SELECT :missing", Params{Named: map[string]any{}}); Classify(err).Code != "SQLITE_RANGE" {
		t.Fatalf("missing named: %v", err)
	}
	if _, err := d.Exec(ctx, 0, "SELEKT 1", Params{}); Classify(err).Code != "SQLITE_ERROR" {
		t.Fatalf("syntax: %v", Classify(err))
	}
	d.Exec(ctx, 0, "CREATE TABLE u(x UNIQUE)", Params{})
	d.Exec(ctx, 0, "INSERT INTO u VALUES (1)", Params{})
	if _, err := d.Exec(ctx, 0, "INSERT INTO u VALUES (1)", Params{}); Classify(err).Code != "SQLITE_CONSTRAINT_UNIQUE" {
		t.Fatalf("unique: %v", Classify(err).Code)
	}
}

func TestTransactionGatesOtherCalls(t *testing.T) {
	ctx := context.Background()
	h, evs := newHost(t)
	d, _, err := h.Open(ctx, OpenOptions{Name: "tx", Storage: "memory", Migrations: []*migrations.Migration{mig(1, "t", "CREATE TABLE t(x)")}})
	if err != nil {
		t.Fatal(err)
	}
	*evs = nil
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.Exec(ctx, 0, "INSERT INTO t VALUES ('outside')", Params{})
		done <- err
	}()
	if _, err := d.Exec(ctx, tx, "INSERT INTO t VALUES ('inside')", Params{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("call outside the transaction ran inside it (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	if len(*evs) != 0 {
		t.Fatalf("change before commit: %+v", *evs)
	}
	if err := d.Rollback(tx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, rows := query(t, d, 0, "SELECT x FROM t", Params{})
	if len(rows) != 1 || rows[0][0] != "outside" {
		t.Fatalf("rows %v", rows)
	}
	if len(*evs) != 1 || len((*evs)[0].Tables) != 1 || (*evs)[0].Tables[0] != "t" {
		t.Fatalf("events %+v", *evs)
	}
	if _, err := d.Exec(ctx, tx, "SELECT 1", Params{}); Classify(err).Code != "SQLITE_MISUSE" {
		t.Fatalf("stale tx: %v", err)
	}
}

func TestIdleTransactionIsRolledBack(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t)
	h.TxIdle = 20 * time.Millisecond
	d, _, _ := h.Open(ctx, OpenOptions{Name: "idle", Storage: "memory"})
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d.Exec(ctx, tx, "CREATE TABLE t(x)", Params{})
	// This waits for the gate, which the abandoned transaction frees.
	if _, err := d.Exec(ctx, 0, "SELECT * FROM t", Params{}); err == nil {
		t.Fatal("table from the abandoned transaction exists")
	}
}

func TestExportImport(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t)
	d, _, _ := h.Open(ctx, OpenOptions{Name: "x", Storage: "memory", Migrations: []*migrations.Migration{mig(1, "t", "CREATE TABLE t(x)")}})
	d.Exec(ctx, 0, "INSERT INTO t VALUES (1), (2)", Params{})
	img, err := d.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d.Exec(ctx, 0, "DELETE FROM t", Params{})
	junk := bytes.Repeat([]byte("not a database "), 100)
	if err := d.Import(ctx, junk); Classify(err).Code != CodeInvalidDatabase {
		t.Fatalf("junk import: %v", err)
	}
	corrupt := bytes.Clone(img)
	for i := 100; i < len(corrupt); i += 7 {
		corrupt[i] ^= 0x5a
	}
	if err := d.Import(ctx, corrupt); Classify(err).Code != CodeInvalidDatabase {
		t.Fatalf("corrupt import: %v", err)
	}
	if err := d.Import(ctx, img); err != nil {
		t.Fatal(err)
	}
	_, rows := query(t, d, 0, "SELECT x FROM t ORDER BY x", Params{})
	if len(rows) != 2 || d.Version() != 1 {
		t.Fatalf("after import: %v v%d", rows, d.Version())
	}
	if err := h.Reset(ctx, "x", "memory"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, 0, "SELECT 1", Params{}); Classify(err).Code != CodeClosed {
		t.Fatalf("after reset: %v", err)
	}
	_, res, err := h.Open(ctx, OpenOptions{Name: "x", Storage: "memory", Migrations: []*migrations.Migration{mig(1, "t", "CREATE TABLE t(x)")}})
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("after reset: %+v %v", res, err)
	}
	var e *Error
	if !errors.As(Classify(errors.New("boom")), &e) || e.Code != CodeInternal {
		t.Fatal("plain error not internal")
	}
}

func TestOlderCodeOnNewerDatabase(t *testing.T) {
	ctx := context.Background()
	h, _ := newHost(t)
	m1 := mig(1, "init", "CREATE TABLE t(x)")
	m2 := mig(2, "add", "ALTER TABLE t ADD COLUMN y")
	m3 := mig(3, "drop", "ALTER TABLE t DROP COLUMN x")
	m3.Breaking = true
	d, _, err := h.Open(ctx, OpenOptions{Name: "n", Storage: "memory", Migrations: []*migrations.Migration{m1, m2}})
	if err != nil {
		t.Fatal(err)
	}
	// Older code (knows 1) on a database at 2 (non-breaking): works.
	_, res, err := h.Open(ctx, OpenOptions{Name: "n", Storage: "memory", Migrations: []*migrations.Migration{m1}})
	if err != nil || res.Version != 2 {
		t.Fatalf("older code, non-breaking newer: %+v %v", res, err)
	}
	if err := d.CheckCurrent(1); err != nil {
		t.Fatalf("check current: %v", err)
	}
	// Newer code applies a breaking migration: older code is outdated.
	if _, _, err := h.Open(ctx, OpenOptions{Name: "n", Storage: "memory", Migrations: []*migrations.Migration{m1, m2, m3}}); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckCurrent(2); Classify(err).Code != CodeOutdated {
		t.Fatalf("check current after breaking: %v", err)
	}
	if err := d.CheckCurrent(3); err != nil {
		t.Fatalf("check current for new code: %v", err)
	}
	_, _, err = h.Open(ctx, OpenOptions{Name: "n", Storage: "memory", Migrations: []*migrations.Migration{m1, m2}})
	if Classify(err).Code != CodeOutdated {
		t.Fatalf("older code, breaking newer: %v", err)
	}
	// An edited migration is still reported, newer database or not.
	edited := mig(1, "init", "CREATE TABLE t(x, z)")
	_, _, err = h.Open(ctx, OpenOptions{Name: "n", Storage: "memory", Migrations: []*migrations.Migration{edited}})
	if c := Classify(err).Code; c != CodeOutdated && c != "LARDER_CHECKSUM_MISMATCH" {
		t.Fatalf("edited + newer: %v", err)
	}
}
