// Package crashtest is the fault-injection harness for Larder's VFS cores:
// fake storage that loses unflushed writes at a random point, a seeded
// random workload of SQLite transactions on real SQLite, and the check that
// after each simulated crash the database passes PRAGMA integrity_check and
// holds exactly the transactions that committed.
//
// It is plain Go and runs natively from go test.
package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// Trial is one database on fresh fake storage, through the real VFS core
// of the backend under test.
type Trial interface {
	// Open opens the database through the VFS on the current storage.
	Open() (*sqlite3.Conn, error)
	// Crash makes every further storage operation fail, as if the worker
	// were killed now.
	Crash()
	// Crashed reports whether the storage has crashed.
	Crashed() bool
	// Ops is the number of storage operations served so far.
	Ops() int
	// Restart simulates the next page load after a crash: storage keeps
	// what the backend's crash model keeps (rng decides), the VFS starts
	// afresh, and Open sees the recovered storage, which never crashes.
	Restart(rng *rand.Rand)
	// Close releases the trial's VFS registration.
	Close()
}

// Quotaed is a Trial whose storage can run out of space.
type Quotaed interface {
	Trial
	// SetQuota leaves room for about n more bytes.
	SetQuota(n int64)
}

// Config is a crash test of one backend in one journal configuration.
type Config struct {
	Trials  int      // number of crash trials
	Seed    uint64   // trial i uses seed Seed+i
	Pragmas []string // run after every open, in order
	Txns    int      // transactions per trial (default 24)
	// NewTrial returns a trial whose storage crashes at operation crashAt
	// (never when 0); rng drives the storage's own random choices.
	NewTrial func(rng *rand.Rand, crashAt int) Trial
}

// Run runs cfg.Trials trials. Each runs the workload once without a crash,
// then "kills the worker" after its last commit and checks that every
// commit survived; then again with a crash at a random operation and checks
// that the database is intact and holds every committed transaction and
// none that failed (the one in flight at the crash may be either). Failing
// trials print their seed.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	fails := 0
	for i := range cfg.Trials {
		seed := cfg.Seed + uint64(i)
		if err := runTrial(cfg, seed); err != nil {
			t.Errorf("trial seed %d (pragmas %q): %v", seed, cfg.Pragmas, err)
			if fails++; fails >= 5 {
				t.Fatalf("stopping after %d failed trials", fails)
			}
		}
	}
}

func runTrial(cfg Config, seed uint64) error {
	// Without a crash: every statement must succeed, and every commit
	// must survive losing all unflushed writes afterwards.
	tr := cfg.NewTrial(rand.New(rand.NewPCG(seed, 1)), 0)
	defer tr.Close()
	res, err := workload(tr, cfg, rand.New(rand.NewPCG(seed, 2)), false)
	if err != nil {
		return fmt.Errorf("without crash: %w", err)
	}
	total := tr.Ops()
	tr.Restart(rand.New(rand.NewPCG(seed, 3)))
	if err := verify(tr, cfg, res); err != nil {
		return fmt.Errorf("after killing the worker past the last commit: %w", err)
	}

	crashAt := 1 + rand.New(rand.NewPCG(seed, 4)).IntN(total)
	tr2 := cfg.NewTrial(rand.New(rand.NewPCG(seed, 1)), crashAt)
	defer tr2.Close()
	res, err = workload(tr2, cfg, rand.New(rand.NewPCG(seed, 2)), false)
	if err != nil {
		return fmt.Errorf("crash at op %d of %d: %w", crashAt, total, err)
	}
	tr2.Restart(rand.New(rand.NewPCG(seed, 5)))
	if err := verify(tr2, cfg, res); err != nil {
		return fmt.Errorf("crash at op %d of %d: %w", crashAt, total, err)
	}
	return nil
}

// State is the content of the test table, as the model sees it.
type State struct {
	Created bool
	Rows    map[int64][]byte
}

func (s State) clone() State {
	return State{Created: s.Created, Rows: maps.Clone(s.Rows)}
}

func (s State) equal(o State) bool {
	return s.Created == o.Created && maps.EqualFunc(s.Rows, o.Rows, bytes.Equal)
}

func (s State) String() string {
	if !s.Created {
		return "no table"
	}
	return fmt.Sprintf("%d rows (ids %v)", len(s.Rows), slices.Sorted(maps.Keys(s.Rows)))
}

// Result is what a workload run committed.
type Result struct {
	Committed State
	InFlight  *State // the transaction whose commit was interrupted, if any
	Err       error  // the error that stopped the workload (nil: ran to the end)
}

// workload runs random transactions. It returns an error only for a
// failure the storage did not cause (a statement failing before any crash,
// unless quotaOK and the error is SQLITE_FULL).
func workload(tr Trial, cfg Config, rng *rand.Rand, quotaOK bool) (res Result, err error) {
	res.Committed.Rows = map[int64][]byte{}
	conn, err := tr.Open()
	if err != nil {
		return res, ignoreStop(stopped(tr, &res, err, "open"))
	}
	defer func() {
		tr.Crash() // the worker dies: nothing more reaches storage
		conn.Close()
	}()
	for _, p := range cfg.Pragmas {
		if err := conn.Exec(p); err != nil {
			return res, ignoreStop(stopped(tr, &res, err, p))
		}
	}

	// Each step: the state if it commits, and the statements.
	commit := func(next State, stmts func() (string, error)) error {
		what, err := stmts()
		if err == nil {
			res.Committed = next
			return nil
		}
		if what == "COMMIT" || what == "autocommit" {
			res.InFlight = &next
		}
		if quotaOK && errors.Is(err, sqlite3.FULL) {
			res.InFlight = nil // a failed statement never commits
			res.Err = err
			return err
		}
		return stopped(tr, &res, err, what)
	}

	next := res.Committed.clone()
	next.Created = true
	if err := commit(next, func() (string, error) {
		return "autocommit", conn.Exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
	}); err != nil {
		return res, ignoreStop(err)
	}

	nextID := int64(1)
	randOp := func(s *State) (sql string, args []any) {
		ids := slices.Sorted(maps.Keys(s.Rows))
		switch k := rng.IntN(10); {
		case k < 6 || len(ids) == 0:
			id := nextID
			nextID++
			v := blob(rng, 1+rng.IntN(3000))
			s.Rows[id] = v
			return "INSERT INTO t(id, v) VALUES(?, ?)", []any{id, v}
		case k < 9:
			id := ids[rng.IntN(len(ids))]
			v := blob(rng, 1+rng.IntN(3000))
			s.Rows[id] = v
			return "UPDATE t SET v = ? WHERE id = ?", []any{v, id}
		default:
			id := ids[rng.IntN(len(ids))]
			delete(s.Rows, id)
			return "DELETE FROM t WHERE id = ?", []any{id}
		}
	}

	txns := cfg.Txns
	if txns == 0 {
		txns = 24
	}
	for range txns {
		next := res.Committed.clone()
		var err error
		switch k := rng.IntN(10); {
		case k < 5: // autocommit statement
			sql, args := randOp(&next)
			err = commit(next, func() (string, error) { return "autocommit", execArgs(conn, sql, args...) })
		case k < 9: // explicit transaction, sometimes big enough to spill the page cache
			n := 2 + rng.IntN(8)
			if k == 8 {
				n = 40 + rng.IntN(80)
			}
			err = commit(next, func() (string, error) {
				if err := conn.Exec("BEGIN IMMEDIATE"); err != nil {
					return "BEGIN", err
				}
				for range n {
					sql, args := randOp(&next)
					if err := execArgs(conn, sql, args...); err != nil {
						return sql, err
					}
				}
				return "COMMIT", conn.Exec("COMMIT")
			})
		default: // rolled back
			err = commit(res.Committed, func() (string, error) {
				if err := conn.Exec("BEGIN"); err != nil {
					return "BEGIN", err
				}
				for range 1 + rng.IntN(5) {
					sql, args := randOp(&next)
					if err := execArgs(conn, sql, args...); err != nil {
						return sql, err
					}
				}
				return "ROLLBACK", conn.Exec("ROLLBACK")
			})
		}
		if err != nil {
			return res, ignoreStop(err)
		}
	}
	return res, nil
}

// errStop ends a workload because storage crashed, which is expected.
type errStop struct{ error }

func stopped(tr Trial, res *Result, err error, what string) error {
	if tr.Crashed() {
		res.Err = err
		return errStop{err}
	}
	return fmt.Errorf("%s failed with no crash: %w", what, err)
}

func ignoreStop(err error) error {
	var s errStop
	if errors.As(err, &s) {
		return nil
	}
	var se *sqlite3.Error
	if errors.As(err, &se) && errors.Is(err, sqlite3.FULL) {
		return nil
	}
	return err
}

// verify opens the recovered database and checks integrity and content,
// then that it still takes writes.
func verify(tr Trial, cfg Config, res Result) error {
	conn, err := tr.Open()
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer conn.Close()
	for _, p := range cfg.Pragmas {
		if err := conn.Exec(p); err != nil {
			return fmt.Errorf("reopen: %s: %w", p, err)
		}
	}
	if err := CheckState(conn, res); err != nil {
		return err
	}
	if err := conn.Exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB NOT NULL); INSERT INTO t(v) VALUES (x'01')"); err != nil {
		return fmt.Errorf("write after recovery: %w", err)
	}
	if err := integrity(conn); err != nil {
		return fmt.Errorf("after a write following recovery: %w", err)
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("close after recovery: %w", err)
	}
	return nil
}

// CheckState checks integrity_check and that the table holds res.Committed
// (or res.InFlight, when a commit was interrupted).
func CheckState(conn *sqlite3.Conn, res Result) error {
	if err := integrity(conn); err != nil {
		return err
	}
	got, err := readState(conn)
	if err != nil {
		return err
	}
	if got.equal(res.Committed) {
		return nil
	}
	if res.InFlight != nil && got.equal(*res.InFlight) {
		return nil
	}
	msg := fmt.Sprintf("database holds %v, committed %v", got, res.Committed)
	if res.InFlight != nil {
		msg += fmt.Sprintf(", or with the interrupted commit %v", *res.InFlight)
	}
	if res.Err != nil {
		msg += fmt.Sprintf(" (workload stopped by: %v)", res.Err)
	}
	return errors.New(msg)
}

func integrity(conn *sqlite3.Conn) error {
	stmt, _, err := conn.Prepare("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer stmt.Close()
	var lines []string
	for stmt.Step() {
		lines = append(lines, stmt.ColumnText(0))
	}
	if err := stmt.Err(); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if len(lines) != 1 || lines[0] != "ok" {
		return fmt.Errorf("integrity_check: %s", strings.Join(lines, "; "))
	}
	return nil
}

func readState(conn *sqlite3.Conn) (State, error) {
	s := State{Rows: map[int64][]byte{}}
	stmt, _, err := conn.Prepare("SELECT count(*) FROM sqlite_schema WHERE name = 't'")
	if err != nil {
		return s, err
	}
	if stmt.Step() {
		s.Created = stmt.ColumnInt64(0) == 1
	}
	err = errors.Join(stmt.Err(), stmt.Close())
	if err != nil || !s.Created {
		return s, err
	}
	stmt, _, err = conn.Prepare("SELECT id, v FROM t")
	if err != nil {
		return s, err
	}
	defer stmt.Close()
	for stmt.Step() {
		s.Rows[stmt.ColumnInt64(0)] = stmt.ColumnBlob(1, nil)
	}
	return s, stmt.Err()
}

func execArgs(conn *sqlite3.Conn, sql string, args ...any) error {
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		return err
	}
	for i, a := range args {
		switch a := a.(type) {
		case int64:
			err = stmt.BindInt64(i+1, a)
		case []byte:
			err = stmt.BindBlob(i+1, a)
		default:
			err = fmt.Errorf("crashtest: cannot bind %T", a)
		}
		if err != nil {
			stmt.Close()
			return err
		}
	}
	return errors.Join(stmt.Exec(), stmt.Close())
}

func blob(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
