package engine

import (
	"context"
	"strconv"
	"time"
)

// A Warmup runs the code every call into larder.wasm runs — request
// decoding, the statement cache, binding, stepping, row encoding,
// transactions, change tracking — on a private in-memory database, so that
// the engine optimises that code on a page's first visit.
//
// Why (bench/findings.md, "The V8 code cache"): Chrome keeps a wasm
// module's optimised code in its code cache, but writes it only from the
// page that compiled the module without the cache, a few seconds after the
// code was optimised; a later visit that loads the module from the cache
// never adds to it. What the first visit did not run long enough to get
// optimised (a query loop, a large scan) then runs unoptimised at the start
// of every later visit: measured 2–6× slower. The worker script runs a
// Warmup in small slices while it is idle, once per larder.wasm build
// (larder-worker.js).
type Warmup struct {
	d      *Database
	rounds int // completed
	step   int // next step of the current round
	req    []byte
}

// warmupName is the private database's name. It lives on a host of its
// own (no databases an app can reach, no event handler), and its memdb
// file is not in the memory storage's namespace ("/larder/NAME").
const warmupName = "(warmup)"

// warmupStorage is the private database's storage: a memdb file that lives
// while its connection does.
type warmupStorage struct{}

func (warmupStorage) Available() bool                       { return true }
func (warmupStorage) Preopen(context.Context, string) error { return nil }
func (warmupStorage) URI(string) string                     { return "file:/larder-warmup?vfs=memdb" }
func (warmupStorage) Pragmas() []string                     { return nil }
func (warmupStorage) Release(string) error                  { return nil }
func (warmupStorage) Delete(context.Context, string) error  { return nil }

// Warmup rows: the table cycles through this many ids.
const warmupRows = 2000

// NewWarmup opens the private database.
func NewWarmup(ctx context.Context) (*Warmup, error) {
	d, err := new(Host).openDatabase(ctx, warmupName, "memory", warmupStorage{})
	if err != nil {
		return nil, err
	}
	w := &Warmup{d: d}
	for _, sql := range []string{
		"CREATE TABLE w (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL, r REAL, b BLOB)",
		"CREATE INDEX w_k ON w (k)",
	} {
		if err := w.exec(0, sql, Params{}); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// Rounds is the number of rounds completed so far.
func (w *Warmup) Rounds() int { return w.rounds }

// warmupSteps is the number of steps of a round; each is a few
// milliseconds of unoptimised code, so that a slice of the worker's idle
// time can stop between two.
const warmupSteps = 10

// Step runs the next step of the current round: a round is a transaction
// of 25 inserts four times, 25 point selects four times, autocommit updates
// and index lookups, then a delete with RETURNING (a run) and aggregate scans. Ids cycle through
// warmupRows, so the table stays small.
func (w *Warmup) Step() error {
	ctx := context.Background()
	base := int64(w.rounds*100) % warmupRows
	n := base + 100
	var err error
	switch k := int64(w.step); {
	case k < 4:
		var tx uint64
		if tx, err = w.d.Begin(ctx); err != nil {
			return err
		}
		for i := range int64(25) {
			id := base + k*25 + i + 1
			var blob any
			if id%3 == 0 {
				blob = []byte(strconv.FormatInt(id, 16))
			}
			if err = w.exec(tx, "INSERT OR REPLACE INTO w (id, k, v, r, b) VALUES (?, ?, ?, ?, ?)",
				args(id, id%50, "value "+strconv.FormatInt(id, 10), float64(id)/4, blob)); err != nil {
				w.d.Rollback(tx)
				return err
			}
		}
		err = w.d.Commit(tx)
	case k < 8:
		for i := range int64(25) {
			if err = w.query("SELECT id, k, v, r, b FROM w WHERE id = ?", args(((k*25+i)*37)%n+1)); err != nil {
				return err
			}
		}
	case k == 8:
		for i := range int64(10) {
			if err = w.exec(0, "UPDATE w SET v = ?, r = r + 1 WHERE id = ?", args("updated", (i*53)%n+1)); err != nil {
				return err
			}
			if err = w.query("SELECT id, v FROM w WHERE k = ? ORDER BY id DESC LIMIT 5", args(i)); err != nil {
				return err
			}
		}
	default:
		if err = w.run("DELETE FROM w WHERE id = :id RETURNING id, v", Params{Named: map[string]any{"id": base + 7}}); err != nil {
			return err
		}
		for _, sql := range []string{
			"SELECT count(*) AS n, sum(k) AS s, max(length(v)) AS m, avg(r) AS a FROM w",
			"SELECT k, count(*) AS n, min(v) AS v FROM w GROUP BY k ORDER BY n DESC",
		} {
			if err = w.query(sql, Params{}); err != nil {
				return err
			}
		}
	}
	if err != nil {
		return err
	}
	if w.step++; w.step == warmupSteps {
		w.step = 0
		w.rounds++
	}
	return nil
}

// RunFor runs steps until d has passed (at least one step) or the round
// count reaches rounds, and answers the rounds completed so far.
func (w *Warmup) RunFor(d time.Duration, rounds int) (int, error) {
	start := time.Now()
	for w.rounds < rounds {
		if err := w.Step(); err != nil {
			return w.rounds, err
		}
		if time.Since(start) >= d {
			break
		}
	}
	return w.rounds, nil
}

// Close closes the private database, which frees it.
func (w *Warmup) Close() error { return w.d.shutdown() }

// exec, query and run take the way of a call (jsbridge.DirectRun): the request is
// encoded and decoded as the worker script's would be.
func (w *Warmup) exec(tx uint64, sql string, p Params) error {
	r, err := w.decode(sql, p)
	if err != nil {
		return err
	}
	_, err = w.d.Exec(context.Background(), tx, r.SQL, r.Params)
	return err
}

func (w *Warmup) query(sql string, p Params) error {
	r, err := w.decode(sql, p)
	if err != nil {
		return err
	}
	_, err = w.d.Query(context.Background(), 0, r.SQL, r.Params)
	return err
}

func (w *Warmup) run(sql string, p Params) error {
	r, err := w.decode(sql, p)
	if err != nil {
		return err
	}
	_, err = w.d.Run(context.Background(), 0, r.SQL, r.Params)
	return err
}

func (w *Warmup) decode(sql string, p Params) (StatementRequest, error) {
	w.req = AppendStatement(w.req[:0], StatementRequest{DB: warmupName, SQL: sql, Params: p})
	return DecodeStatement(w.req)
}

// args are positional parameters.
func args(vs ...any) Params { return Params{Positional: vs} }
