// Package imagecheck decides whether an SQLite database file may replace a
// Larder database: the checks behind db.import(), db.restore(url) and
// `larder db restore`. It runs on a private copy of the file, opened with
// SQLite's defensive settings ([sqlite.Harden]), once, under a time budget
// ([Budget]) that SQLite's progress handler enforces:
//
//  1. the header (https://sqlite.org/fileformat.html#the_database_header):
//     magic string, page size, file format bytes 18/19, a size that holds
//     every page ([ParseHeader]);
//  2. the schema is readable and has no object named sqlite_* other than
//     SQLite's own (sqlite_sequence, sqlite_stat1/4, automatic indexes);
//  3. _migrations is a table with the columns of
//     [migrations.TrackingTableSQL], and its rows match the migrations the
//     code knows (same version, name and checksum); a row newer than the
//     code that is breaking is refused as written by newer code;
//  4. every schema object is one the known migrations build, with the same
//     SQL, found by applying those migrations to a scratch in-memory
//     database ([Options.AllowExtraSchema] skips this step);
//  5. PRAGMA integrity_check.
//
// Every refusal is an [*Error] whose Reason says what was wrong.
package imagecheck

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// DefaultTimeout is the time budget of the checks when the caller sets
// none.
const DefaultTimeout = 5 * time.Second

// Magic is the first 16 bytes of every SQLite database file.
const Magic = "SQLite format 3\x00"

// Options tune [Check].
type Options struct {
	// Migrations are the migrations the code knows. The file's
	// _migrations rows must match them, and its schema must be what they
	// build. With none, the schema cannot be checked: the file is refused
	// unless AllowExtraSchema is set.
	Migrations []*migrations.Migration
	// AllowExtraSchema accepts schema objects the migrations do not build
	// (extra tables, indexes, triggers, views, or objects that differ).
	// _migrations must still be a table whose rows match the migrations.
	AllowExtraSchema bool
}

// An Error says why a file was refused.
type Error struct {
	Reason   string
	Outdated bool  // the file was written by newer code (a newer breaking migration)
	Timeout  bool  // the budget ran out before the checks finished
	Err      error // the SQLite error behind the reason, if any
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.Err }

func refuse(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// A Header is what ParseHeader read.
type Header struct {
	PageSize int
	WAL      bool  // file format bytes 18/19 say WAL mode
	Pages    int64 // database size in pages from the header, 0 when not valid
}

// ParseHeader checks the first 100 bytes of a database file of size bytes.
func ParseHeader(h []byte, size int64) (Header, error) {
	if len(h) < 100 || !strings.HasPrefix(string(h), Magic) {
		return Header{}, refuse("no SQLite header (not an SQLite database file; %d bytes, starts %q)", size, printable(h[:min(len(h), 16)]))
	}
	ps := int(binary.BigEndian.Uint16(h[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return Header{}, refuse("header: page size %d is not a power of two from 512 to 65536", ps)
	}
	if h[18] < 1 || h[18] > 2 || h[19] < 1 || h[19] > 2 {
		return Header{}, refuse("header: file format bytes 18/19 are %d/%d (want 1 for a rollback journal or 2 for WAL)", h[18], h[19])
	}
	hd := Header{PageSize: ps, WAL: h[18] == 2 || h[19] == 2}
	if size%int64(ps) != 0 {
		return hd, refuse("truncated: %d bytes is not a whole number of %d-byte pages", size, ps)
	}
	// The in-header size is valid when the version-valid-for number
	// matches the change counter (https://sqlite.org/fileformat.html#in_header_database_size).
	if n := int64(binary.BigEndian.Uint32(h[28:32])); n > 0 && binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28]) {
		hd.Pages = n
		if n*int64(ps) > size {
			return hd, refuse("truncated: the header says %d pages of %d bytes (%d bytes), the file has %d", n, ps, n*int64(ps), size)
		}
	}
	return hd, nil
}

// Open opens a private copy to check (a file name or URI), hardened and
// with nothing read yet.
func Open(name string, flags sqlite3.OpenFlag) (*sqlite3.Conn, error) {
	conn, err := sqlite3.OpenFlags(name, flags)
	if err != nil {
		return nil, &Error{Reason: "cannot open: " + err.Error(), Err: err}
	}
	if err := msqlite.Harden(conn); err != nil {
		conn.Close() // a pragma may read the schema: a malformed one fails here
		return nil, &Error{Reason: "cannot read its schema: " + err.Error(), Err: err}
	}
	return conn, nil
}

// A Result is what Check learnt about an accepted file.
type Result struct {
	Version int64 // newest applied migration, 0 for none
}

// Check runs checks 2 to 5 on conn, a private copy opened with [Open].
// Give it a ctx from [Budget]: it returns an *Error with Timeout set when
// the budget runs out.
func Check(ctx context.Context, conn *sqlite3.Conn, opts Options) (res Result, err error) {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	step := "reading the schema"
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = &Error{Timeout: true, Err: err, Reason: fmt.Sprintf(
				"the checks did not finish within the time budget (stopped while %s): the file is too large or too expensive to check; pass a longer timeout if you trust it", step)}
		}
	}()
	objs, err := readSchema(conn)
	if err != nil {
		return res, &Error{Reason: "cannot read its schema: " + err.Error(), Err: err}
	}
	if err := sqliteNames(objs); err != nil {
		return res, err
	}
	step = "checking _migrations"
	recs, err := checkMigrations(ctx, conn, objs, opts.Migrations)
	if err != nil {
		return res, err
	}
	if len(recs) > 0 {
		res.Version = recs[len(recs)-1].Version
	}
	if !opts.AllowExtraSchema {
		step = "comparing the schema with the migrations"
		if err := compareSchema(ctx, objs, recs, opts.Migrations); err != nil {
			return res, err
		}
	}
	step = "running PRAGMA integrity_check"
	return res, integrityCheck(conn)
}

// integrityCheck runs PRAGMA integrity_check and refuses unless it says ok.
func integrityCheck(conn *sqlite3.Conn) error {
	stmt, _, err := conn.Prepare("PRAGMA integrity_check(10)")
	if err != nil {
		return &Error{Reason: "integrity_check: " + err.Error(), Err: err}
	}
	defer stmt.Close()
	var msgs []string
	for stmt.Step() {
		msgs = append(msgs, stmt.ColumnText(0))
	}
	if err := stmt.Err(); err != nil {
		return &Error{Reason: "integrity_check: " + err.Error(), Err: err}
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return refuse("integrity_check: %s", strings.Join(msgs, "; "))
}

// MinWork is how much checking, in calls of SQLite's progress handler
// (one per 1000 virtual machine steps), lets the time budget refuse a file
// as soon as it has run out: 1,000 calls, a million steps (checking a
// 20,000-row table takes about 200). A file that cost less is refused only
// once hardFactor times the budget has passed: WebKit on a loaded machine
// once took more than 5 s to check a three-row database, and a CPU bomb
// that burns milliseconds inside one step (a CHECK of
// length(hex(zeroblob(2000000)))) makes few calls yet must still be
// refused.
const MinWork = 1000

// hardFactor times the budget refuses whatever the work (tests change it).
var hardFactor = 3

// Budget returns a context whose Err reports the budget spent once d
// (DefaultTimeout when d <= 0) has passed and the checks did MinWork, or
// once hardFactor·d has passed. Err reads the clock and counts its calls
// itself: SQLite's progress handler (ncruces's Conn.SetInterrupt) calls it
// every 1000 steps, also where no timer goroutine gets to run
// (larder.wasm: one thread, busy in SQLite). Cancelling, or the parent's
// end, stops it at once.
func Budget(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultTimeout
	}
	ctx, cancel := context.WithCancel(parent)
	now := time.Now()
	return &budget{Context: ctx, parent: parent, end: now.Add(d), hard: now.Add(time.Duration(hardFactor) * d)}, cancel
}

type budget struct {
	context.Context
	parent    context.Context // asked on every call: its Err may end it before its Done closes
	end, hard time.Time
	work      atomic.Int64
}

func (b *budget) Deadline() (time.Time, bool) { return b.hard, true }

func (b *budget) Err() error {
	if err := b.parent.Err(); err != nil {
		return err
	}
	if err := b.Context.Err(); err != nil {
		return err
	}
	now := time.Now()
	if b.work.Add(1) >= MinWork && !now.Before(b.end) || !now.Before(b.hard) {
		return context.DeadlineExceeded
	}
	return nil
}

// Reason returns err's reason when it is an *Error, else err's text.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return err.Error()
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
