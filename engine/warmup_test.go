package engine

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestWarmupIsPrivateAndBounded(t *testing.T) {
	ctx := context.Background()
	h, evs := newHost(t)
	// An app's own memory database of the same-looking name is untouched.
	app, _, err := h.Open(ctx, OpenOptions{Name: "warmup", Storage: "memory", Migrations: nil})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exec(ctx, 0, "CREATE TABLE w (x)", Params{}); err != nil {
		t.Fatal(err)
	}
	*evs = nil

	w, err := NewWarmup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rounds := warmupRows/100 + 5 // past the point where ids cycle
	for w.Rounds() < rounds {
		if err := w.Step(); err != nil {
			t.Fatalf("round %d step %d: %v", w.Rounds(), w.step, err)
		}
	}
	if len(*evs) != 0 {
		t.Errorf("the warm-up emitted events: %+v", *evs)
	}
	if _, err := h.Lookup(warmupName); err == nil {
		t.Error("the warm-up database is reachable through the host")
	}
	_, rows := query(t, w.d, 0, "SELECT count(*), max(id) FROM w", Params{})
	if n := rows[0][0].(float64); n == 0 || n > warmupRows {
		t.Errorf("warm-up table holds %v rows, want 1..%d", n, warmupRows)
	}
	_, rows = query(t, app, 0, "SELECT count(*) FROM w", Params{})
	if rows[0][0].(float64) != 0 {
		t.Errorf("the app's table w got %v rows from the warm-up", rows[0][0])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Its memdb file went with its connection: a new warm-up starts empty.
	w2, err := NewWarmup(ctx)
	if err != nil {
		t.Fatalf("second warm-up: %v", err)
	}
	defer w2.Close()
	if w2.Rounds() != 0 {
		t.Fatalf("second warm-up starts at round %d", w2.Rounds())
	}
}

func TestWarmupRunForStopsAtRounds(t *testing.T) {
	w, err := NewWarmup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n, err := w.RunFor(time.Hour, 3)
	if err != nil || n != 3 || w.step != 0 {
		t.Fatalf("RunFor(1h, 3) = %d, %v (step %d), want 3 rounds", n, err, w.step)
	}
	// A zero duration still runs one step.
	if n, err := w.RunFor(0, 10); err != nil || n != 3 || w.step != 1 {
		t.Fatalf("RunFor(0, 10) = %d, %v (step %d), want one step", n, err, w.step)
	}
}

func TestAppendStatementRoundTrips(t *testing.T) {
	for _, r := range []StatementRequest{
		{DB: "d", SQL: "SELECT 1"},
		{DB: "é", SQL: "SELECT ?, ?, ?, ?, ?, ?, ?, ?", Params: Params{Positional: []any{
			nil, true, false, int64(-7), int64(math.MaxInt64), 2.5, "héllo", []byte{0, 1}}}},
		{DB: "d", SQL: "SELECT :a, :b", Params: Params{Named: map[string]any{"a": int64(1), "b": "x"}}},
	} {
		got, err := DecodeStatement(AppendStatement(nil, r))
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %#v:\n got %#v, %v", r, got, err)
		}
	}
}
