//go:build !js && workerd

package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkSyncThroughWorker measures sync through the Worker in workerd
// with local D1, on loopback (make bench-sync):
//
//   - push-10k-ms: one device pushes 10,000 new rows (20 batches of 500);
//   - initial-sync-10k-ms: a fresh device of the same user pulls them all
//     (pages of 1,000) into its SQLite file;
//   - change-p50-ms, change-p90-ms: one row updated on one device until it
//     is in the other device's database: the first device's round (push,
//     then pull to the end) and then the other's (pull), with no polling
//     interval in between, over 30 changes.
//
// Run it once: go test -tags workerd ./edge -run '^$' -bench SyncThroughWorker -benchtime 1x
func BenchmarkSyncThroughWorker(b *testing.B) {
	w := startSyncWorker(b, b.TempDir())
	ctx := context.Background()
	for i := range b.N {
		sub := fmt.Sprintf("bench-%d", i)
		a := newSyncDevice(b, w.URL, sub, syncApp, 0)
		const rows = 10000
		a.exec(`WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < ?2)
			INSERT INTO items (id, owner, title, n, r) SELECT printf('row-%05d', value), ?1, 'title ' || value, value, value / 7.0 FROM s`, sub, int64(rows))
		start := time.Now()
		n, err := a.c.Sync(ctx, a.tr, a.hello)
		if err != nil || n.Pushed != rows {
			b.Fatalf("push: %+v %v", n, err)
		}
		push := time.Since(start)

		fresh := newSyncDevice(b, w.URL, sub, syncApp, 0)
		start = time.Now()
		n, err = fresh.c.Sync(ctx, fresh.tr, fresh.hello)
		if err != nil || n.Pulled != rows {
			b.Fatalf("initial sync: %+v %v", n, err)
		}
		initial := time.Since(start)
		if got, want := fresh.items(), a.items(); got != want {
			b.Fatalf("the fresh device differs from the first")
		}

		var lat []time.Duration
		for j := range 30 {
			title := fmt.Sprintf("edit %d", j)
			a.exec("UPDATE items SET title = ? WHERE id = 'row-00042'", title)
			start := time.Now()
			if _, err := a.c.Sync(ctx, a.tr, a.hello); err != nil {
				b.Fatal(err)
			}
			if _, err := fresh.c.Sync(ctx, fresh.tr, fresh.hello); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			if got := rows1(b, fresh, "SELECT title FROM items WHERE id = 'row-00042'"); got != title {
				b.Fatalf("the other device has %q, want %q", got, title)
			}
		}
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(push), "push-10k-ms")
		b.ReportMetric(ms(initial), "initial-sync-10k-ms")
		b.ReportMetric(ms(lat[len(lat)/2]), "change-p50-ms")
		b.ReportMetric(ms(lat[len(lat)*9/10]), "change-p90-ms")
	}
}

// rows1 is the single text value a query returns on a device.
func rows1(tb testing.TB, d *syncDevice, q string) string {
	tb.Helper()
	stmt, _, err := d.conn.Prepare(q)
	if err != nil {
		tb.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() {
		tb.Fatalf("%s: no row (%v)", q, stmt.Err())
	}
	return stmt.ColumnText(0)
}
