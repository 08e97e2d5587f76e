package syncer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

const appDir = "testdata/app"

// openApp opens an in-memory database migrated to version to (0: all).
func openApp(t testing.TB, to int64) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// As every Larder connection: defensive, trusted_schema=OFF (the
	// triggers may only call innocuous functions).
	if err := sqlite.Harden(conn); err != nil {
		t.Fatal(err)
	}
	migs, err := migrations.LoadDir(appDir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background(), to); err != nil {
		t.Fatal(err)
	}
	return conn
}

func appConfig(t testing.TB) *Config {
	t.Helper()
	cfg, err := LoadDir(appDir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type device struct {
	t     testing.TB
	conn  *sqlite3.Conn
	c     *Client
	hello Hello
}

func newDevice(t testing.TB, to int64) *device {
	t.Helper()
	conn := openApp(t, to)
	c, err := Install(context.Background(), conn, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := &device{t: t, conn: conn, c: c}
	if d.hello, err = c.Hello(); err != nil {
		t.Fatal(err)
	}
	if d.hello != versionOf(t, conn) {
		t.Fatalf("Hello %+v, _migrations says %+v", d.hello, versionOf(t, conn))
	}
	return d
}

func versionOf(t testing.TB, conn *sqlite3.Conn) Hello {
	rows, err := queryConn(conn, "SELECT max(version), coalesce(max(CASE WHEN breaking THEN version END), 0) FROM _migrations")
	if err != nil {
		t.Fatal(err)
	}
	return Hello{Version: rows[0][0].(int64), Breaking: rows[0][1].(int64)}
}

func newServer(t testing.TB, to int64) (*Server, *sqlite3.Conn) {
	t.Helper()
	conn := openApp(t, to)
	store := NewConnStore(conn)
	t.Cleanup(func() { store.Close() })
	s, err := NewServer(context.Background(), store, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, conn
}

func (d *device) exec(sql string, args ...any) {
	d.t.Helper()
	if err := execConn(d.conn, sql, args...); err != nil {
		d.t.Fatal(err)
	}
}

// sync pushes the whole outbox and pulls to the end, as sub.
func (d *device) sync(s *Server, sub string) Counts {
	d.t.Helper()
	n, err := d.c.Sync(context.Background(), Local{s, sub}, d.hello)
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

// dump renders the rows of a table, every value with its storage class.
func dump(t testing.TB, conn *sqlite3.Conn, query string, args ...any) string {
	t.Helper()
	rows, err := queryConn(conn, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString("|")
			}
			fmt.Fprintf(&b, "%T:%v", v, v)
		}
		b.WriteString("\n")
	}
	return b.String()
}
