package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// migrate validates and applies o.Migrations. Called from Open.
//
// The browser's rule for a database migrated past the code's newest
// migration (a newer tab, or a newer deployment, got there first) is the
// engine's AllowNewerNonBreaking: if every newer applied migration is
// non-breaking, this code still works with the schema, so the open
// succeeds at the database's version (after validating the migrations it
// does know and applying its pending ones); if one of them is breaking, it
// fails with LARDER_OUTDATED.
func (d *Database) migrate(ctx context.Context, o OpenOptions) (OpenResult, error) {
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return OpenResult{}, err
	}
	defer release()
	store := msqlite.NewStore(d.conn)
	if len(o.Migrations) == 0 {
		v, err := store.Version(ctx)
		if err != nil {
			return OpenResult{}, err
		}
		d.version = v
		return OpenResult{Version: v}, nil
	}
	p, err := migrations.NewProvider(store, o.Migrations, migrations.Options{AllowOutOfOrder: o.AllowOutOfOrder, AllowNewerNonBreaking: true})
	if err != nil {
		return OpenResult{}, &Error{Code: CodeInvalidArgument, Message: "open: migrations: " + err.Error(), Err: err}
	}
	migs := p.Migrations()
	newest := migs[len(migs)-1].Version
	if len(d.known) == 0 || newest >= d.known[len(d.known)-1].Version {
		d.known = migs
	}
	results, err := p.Up(ctx, 0)
	clear(d.pending)
	var ve *migrations.ValidationError
	if errors.As(err, &ve) {
		for _, pr := range ve.Problems {
			if pr.Err == migrations.ErrDatabaseNewer { // a breaking one: see AllowNewerNonBreaking
				return OpenResult{}, &Error{Code: CodeOutdated, Message: fmt.Sprintf(
					"open %s: the database is at a newer schema: migration %04d_%s is breaking and this code knows migrations up to %d only; load the new version of the app",
					d.name, pr.Version, pr.Name, newest)}
			}
		}
	}
	from, breaking := int64(0), false
	applied := map[int64]bool{}
	for _, r := range results {
		if !r.Skipped {
			applied[r.Migration.Version] = true
			breaking = breaking || r.Migration.Breaking
		}
	}
	for _, m := range migs {
		if !applied[m.Version] {
			from = max(from, m.Version)
		}
	}
	if err != nil {
		var me *migrations.MigrationError
		if errors.As(err, &me) {
			return OpenResult{Applied: results}, &Error{Code: "LARDER_MIGRATION_FAILED", Message: err.Error(),
				Migration: &MigrationRef{Version: me.Version, Name: me.Name}, Err: err}
		}
		return OpenResult{Applied: results}, err
	}
	// After a successful Up every known migration is applied, so the
	// version is the newest known one, unless newer code applied
	// non-breaking migrations above it.
	v, err := p.Version(ctx)
	if err != nil {
		return OpenResult{Applied: results}, err
	}
	d.version = max(v, newest)
	if len(applied) > 0 && d.version == newest {
		// A database that newer code upgraded already announced its version.
		d.host.emit(d.name, Event{Type: "versionchange", From: from, To: newest, Breaking: breaking})
	}
	return OpenResult{Version: d.version, Applied: results}, nil
}

// CheckCurrent returns LARDER_OUTDATED if a breaking migration newer than
// known (the newest migration the calling page's code has) was applied:
// old code must not write into a schema it does not know. known 0 skips
// the check.
func (d *Database) CheckCurrent(known int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.closedErr()
	}
	if known <= 0 || known >= d.version {
		return nil
	}
	recs, err := msqlite.NewStore(d.conn).Applied(context.Background())
	if err != nil {
		return err
	}
	if r, ok := migrations.NewerBreaking(recs, known); ok {
		return &Error{Code: CodeOutdated, Message: fmt.Sprintf(
			"database %s was upgraded past this code (migration %04d_%s is breaking): load the new version of the app",
			d.name, r.Version, r.Name)}
	}
	return nil
}

// Migrations returns the rows of _migrations (none when the database has
// no such table).
func (d *Database) Migrations(ctx context.Context, tx uint64) ([]migrations.Record, error) {
	release, err := d.acquire(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer release()
	return msqlite.NewStore(d.conn).Applied(ctx)
}
