package syncer

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// jsNumberStore is a Store with D1's value model over SQLite: every number
// read comes back as a float64 (a JavaScript number), and integer
// parameters are bound as float64 too, refused beyond 2^53 as the edge's
// D1 binding refuses them.
type jsNumberStore struct{ *ConnStore }

func jsArgs(args []any) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		switch x := a.(type) {
		case int64:
			if x > 1<<53 || x < -(1<<53) {
				// What the edge's store does: bind it as its digits; a
				// column of INTEGER affinity stores the integer exactly.
				out[i] = fmt.Sprint(x)
				continue
			}
			out[i] = float64(x)
		default:
			out[i] = a
		}
	}
	return out, nil
}

func (s jsNumberStore) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	args, err := jsArgs(args)
	if err != nil {
		return nil, err
	}
	rows, err := s.ConnStore.Query(ctx, sql, args...)
	for _, r := range rows {
		for i, v := range r {
			if n, ok := v.(int64); ok {
				r[i] = float64(n)
			}
		}
	}
	return rows, err
}

func (s jsNumberStore) Exec(ctx context.Context, stmts []Stmt) error {
	out := make([]Stmt, len(stmts))
	for i, st := range stmts {
		args, err := jsArgs(st.Args)
		if err != nil {
			return err
		}
		out[i] = Stmt{st.SQL, args}
	}
	return s.ConnStore.Exec(ctx, out)
}

// Through a Store whose numbers are JavaScript numbers (D1), every value
// still reaches the other device with its storage class: INTEGER 2 stays
// INTEGER, REAL 2.0 stays REAL, integers beyond 2^53 keep every digit.
func TestStoreWithJSNumbersKeepsStorageClasses(t *testing.T) {
	conn := openApp(t, 0)
	store := jsNumberStore{NewConnStore(conn)}
	t.Cleanup(func() { store.Close() })
	s, err := NewServer(context.Background(), store, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	a, b := newDevice(t, 0), newDevice(t, 0)
	a.exec("INSERT INTO items (id, owner, title, n, r, data) VALUES ('x', 'u1', '12', 2, 2.0, x'00ff')")
	a.exec("INSERT INTO items (id, owner, title, n, r, data) VALUES ('y', 'u1', 'big', ?, ?, NULL)", int64(math.MaxInt64-1), math.Inf(-1))
	a.sync(s, "u1")
	a.exec("UPDATE items SET n = 3, r = 0.5 WHERE id = 'x'")
	a.sync(s, "u1")
	if n := b.sync(s, "u1"); n.Pulled != 2 {
		t.Fatalf("pulled %+v", n)
	}
	const q = "SELECT id, owner, title, n, r, data, done FROM items ORDER BY id"
	want := "string:x|string:u1|string:12|int64:3|float64:0.5|[]uint8:[0 255]|int64:0\n" +
		"string:y|string:u1|string:big|int64:9223372036854775806|float64:-Inf|<nil>:<nil>|int64:0\n"
	for name, c := range map[string]*device{"a": a, "b": b} {
		if got := dump(t, c.conn, q); got != want {
			t.Errorf("device %s:\n%s\nwant\n%s", name, got, want)
		}
	}
	if got := dump(t, conn, q); got != want {
		t.Errorf("server:\n%s\nwant\n%s", got, want)
	}
}
