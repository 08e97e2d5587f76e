package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/syncer"
)

// Sync in the engine (docs/sync.md, "In the browser"): a database opened
// with a sync declaration (OpenOptions.Sync, the text of sync.toml) gets
// syncer.Install after its migrations, through the gate, so every write
// to a synced table is captured into the outbox in its own transaction. A
// round (Database.Sync) is one syncer.Client.Sync: rounds of one database
// run one at a time; the round holds the gate while it reads the outbox,
// acknowledges a push or applies a pulled page, and gives it back while a
// request is on the network, so the page's calls are not held up by the
// server. The tables the pulled pages wrote are then reported as one
// "change" event.

// Sync error codes the engine adds to syncer's (LARDER_OUTDATED,
// LARDER_SERVER_BEHIND, LARDER_FORBIDDEN, LARDER_BUSY, and whatever code
// the edge answers, such as LARDER_UNAUTHORIZED).
const (
	CodeHTTPError = "LARDER_HTTP_ERROR" // the request did not get a Larder answer (network down, not the sync routes)
	CodeNoSync    = "LARDER_SYNC_OFF"   // the database was opened without a sync declaration
)

// installSync parses the declaration and installs capture after the
// migrations. It runs again when migrations were applied (a rebuilt table
// loses its triggers; a new column needs them regenerated) or the
// declaration changed.
func (d *Database) installSync(ctx context.Context, text string, migrated bool) error {
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return err
	}
	defer release()
	if d.syncClient != nil && !migrated && text == d.syncText {
		return nil
	}
	cfg, err := syncer.Parse([]byte(text))
	if err != nil {
		return &Error{Code: CodeInvalidArgument, Message: "open " + d.name + ": " + err.Error(), Err: err}
	}
	if d.syncClient != nil {
		d.syncClient.Close()
		d.syncClient = nil
	}
	c, err := syncer.Install(ctx, d.conn, cfg)
	clear(d.pending) // the backfill's writes are not the page's
	if err != nil {
		return &Error{Code: CodeInvalidArgument, Message: "open " + d.name + ": " + err.Error(), Err: err}
	}
	d.syncClient, d.syncText = c, text
	return nil
}

// InstallSync installs sync with the declaration text unless it already
// is: a database that another context opened for serving (a takeover of
// the owner tab opens it without migrations or declaration) gets its sync
// client from the first round. The capture triggers live in the schema,
// so nothing written meanwhile was missed.
func (d *Database) InstallSync(ctx context.Context, text string) error {
	return d.installSync(ctx, text, false)
}

// closeSync finalizes the sync client's statements. d.mu held.
func (d *Database) closeSync() {
	if d.syncClient != nil {
		d.syncClient.Close()
		d.syncClient = nil
	}
}

// Sync runs one round over tr: push the whole outbox, pull to the end.
// Remote changes fire one "change" event with the synced tables they
// wrote, even when the round fails after applying some pages. Errors are
// *Error with syncer's code, or CodeHTTPError when tr failed without one.
func (d *Database) Sync(ctx context.Context, tr syncer.Transport) (syncer.Counts, error) {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return syncer.Counts{}, err
	}
	c := d.syncClient
	if c == nil {
		release()
		return syncer.Counts{}, Errorf(CodeNoSync, "sync: database %q was opened without a sync declaration (open({sync: {url, token, config}}) or a bundle with sync.toml)", d.name)
	}
	g := &gated{d: d, c: c, tr: tr, release: release, held: true}
	var counts syncer.Counts
	hello, err := c.Hello()
	if err == nil {
		counts, err = c.Sync(ctx, g, hello)
	}
	if g.held {
		clear(d.pending) // outbox, state and applied rows: reported below
		g.give()
	}
	if len(counts.Tables) > 0 {
		d.host.emit(d.name, Event{Type: "change", Tables: counts.Tables})
	}
	if err != nil {
		return counts, syncErr(err)
	}
	return counts, nil
}

// syncErr gives err the code the JS API reports.
func syncErr(err error) error {
	var e *Error
	var se *syncer.Error
	switch {
	case errors.As(err, &e):
		return &Error{Code: e.Code, Message: err.Error(), Err: err}
	case errors.As(err, &se):
		return &Error{Code: se.Code, Message: err.Error(), Err: err}
	case errors.Is(err, syncer.ErrStaleCursor):
		return &Error{Code: syncer.CodeBusy, Message: err.Error(), Err: err}
	}
	return Classify(err)
}

// gated is the round's Transport: it gives the gate back while a request
// is on the network and takes it again for the answer.
type gated struct {
	d       *Database
	c       *syncer.Client // the client the round started with
	tr      syncer.Transport
	held    bool
	release func()
}

// take takes the gate back after a request. The database may have been
// closed, or opened again with a new declaration, meanwhile: the round
// then ends (what it acknowledged or applied stays; the next round goes on).
func (g *gated) take(ctx context.Context) error {
	r, err := g.d.acquire(ctx, 0)
	if err != nil {
		return err
	}
	if g.d.syncClient != g.c {
		r()
		return Errorf(CodeClosed, "sync: database %q was closed or reopened during the round", g.d.name)
	}
	g.release, g.held = r, true
	return nil
}

func (g *gated) give() {
	clear(g.d.pending)
	g.held = false
	g.release()
}

// around runs one network request without the gate.
func around[T any](g *gated, ctx context.Context, call func() (T, error)) (T, error) {
	g.give()
	done := jsutil.Blocking() // in the browser: the bridge answers other calls meanwhile
	out, err := call()
	done()
	if terr := g.take(ctx); terr != nil {
		var zero T
		return zero, terr
	}
	if err != nil {
		var se *syncer.Error
		if !errors.As(err, &se) {
			err = &Error{Code: CodeHTTPError, Message: fmt.Sprintf("sync: %v", err), Err: err}
		}
	}
	return out, err
}

func (g *gated) Push(ctx context.Context, req syncer.PushRequest) (syncer.PushResponse, error) {
	return around(g, ctx, func() (syncer.PushResponse, error) { return g.tr.Push(ctx, req) })
}

func (g *gated) Pull(ctx context.Context, req syncer.PullRequest) (syncer.PullResponse, error) {
	return around(g, ctx, func() (syncer.PullResponse, error) { return g.tr.Pull(ctx, req) })
}
