package syncer

import (
	"context"
	"fmt"
	"testing"
)

// countingStore counts round trips: on D1 each Query and Exec is one.
type countingStore struct {
	Store
	queries, execs int
}

func (s *countingStore) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	s.queries++
	return s.Store.Query(ctx, sql, args...)
}

func (s *countingStore) Exec(ctx context.Context, stmts []Stmt) error {
	s.execs++
	return s.Store.Exec(ctx, stmts)
}

// BenchmarkInitialSync pushes 10,000 rows from one device and pulls them
// into a fresh one, reporting the store round trips of each side.
func BenchmarkInitialSync(b *testing.B) {
	const rows = 10000
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		sconn := openApp(b, 0)
		inner := NewConnStore(sconn)
		store := &countingStore{Store: inner}
		s, err := NewServer(ctx, store, appConfig(b))
		if err != nil {
			b.Fatal(err)
		}
		writer, reader := newDevice(b, 0), newDevice(b, 0)
		writer.exec("BEGIN")
		for i := range rows {
			writer.exec("INSERT INTO items (id, owner, title, n) VALUES (?, 'u1', ?, ?)", fmt.Sprintf("id%05d", i), fmt.Sprintf("title %d", i), int64(i))
		}
		writer.exec("COMMIT")
		b.StartTimer()
		store.queries, store.execs = 0, 0
		for {
			changes, err := writer.c.Pending(MaxBatch)
			if err != nil {
				b.Fatal(err)
			}
			if len(changes) == 0 {
				break
			}
			resp, err := s.Push(ctx, "u1", PushRequest{Hello: writer.hello, Changes: changes})
			if err != nil {
				b.Fatal(err)
			}
			writer.c.Ack(resp)
		}
		pushQ, pushE := store.queries, store.execs
		store.queries, store.execs = 0, 0
		for more := true; more; {
			cur, _ := reader.c.Cursor()
			page, err := s.Pull(ctx, "u1", PullRequest{Hello: reader.hello, Cursor: cur, Limit: MaxPage})
			if err != nil {
				b.Fatal(err)
			}
			if err := reader.c.Apply(ctx, cur, page); err != nil {
				b.Fatal(err)
			}
			more = page.More
		}
		b.StopTimer()
		if got := dump(b, reader.conn, "SELECT count(*) FROM items"); got != fmt.Sprintf("int64:%d\n", rows) {
			b.Fatalf("reader has %s", got)
		}
		b.ReportMetric(float64(pushQ), "push-queries")
		b.ReportMetric(float64(pushE), "push-execs")
		b.ReportMetric(float64(store.queries), "pull-queries")
		inner.Close()
	}
}
