package lint

import (
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations/rebuild"
)

// recorder collects what the authorizer reports while a migration's own
// statements compile: from the store's BEGIN to its COMMIT, leaving out the
// store's bookkeeping and the statements of rebuilds.
type recorder struct {
	active    bool
	inRebuild int
	dropped   []string          // DROP TABLE, in order
	altered   map[string]bool   // ALTER TABLE (rename, add/drop/rename column)
	updated   map[string]bool   // "table.column" written by UPDATE
	pragmas   map[string]string // PRAGMA name -> argument
	fkValues  []string          // arguments of PRAGMA foreign_keys = …, in order
	txControl []string          // BEGIN / SAVEPOINT / RELEASE inside the migration
	functions map[string]bool
	rebuilds  []rebuild.Spec
}

func (r *recorder) reset() {
	*r = recorder{altered: map[string]bool{}, updated: map[string]bool{}, pragmas: map[string]string{}, functions: map[string]bool{}}
}

func (r *recorder) observe(spec rebuild.Spec, _ error, done bool) {
	if done {
		r.inRebuild--
		return
	}
	r.inRebuild++
	if r.active {
		r.rebuilds = append(r.rebuilds, spec)
	}
}

func (r *recorder) authorize(action sqlite3.AuthorizerActionCode, a, b, _, inner string) sqlite3.AuthorizerReturnCode {
	if action == sqlite3.AUTH_TRANSACTION {
		switch {
		case !r.active && a == "BEGIN":
			r.active = true // the store's BEGIN IMMEDIATE
		case r.active && a == "BEGIN":
			r.txControl = append(r.txControl, "BEGIN")
		case r.active:
			r.active = false // the store's COMMIT or ROLLBACK
		}
		return sqlite3.AUTH_OK
	}
	if !r.active || r.inRebuild > 0 || inner != "" {
		return sqlite3.AUTH_OK
	}
	internal := func(table string) bool {
		t := strings.ToLower(table)
		return t == "_migrations" || strings.HasPrefix(t, "sqlite_")
	}
	switch action {
	case sqlite3.AUTH_DROP_TABLE:
		if !internal(a) {
			r.dropped = append(r.dropped, a)
		}
	case sqlite3.AUTH_ALTER_TABLE:
		r.altered[strings.ToLower(b)] = true
	case sqlite3.AUTH_UPDATE:
		if !internal(a) {
			r.updated[strings.ToLower(a+"."+b)] = true
		}
	case sqlite3.AUTH_PRAGMA:
		// A read of these may be the store's own check before COMMIT.
		if name := strings.ToLower(a); b != "" || !engineReads[name] {
			r.pragmas[name] = b
			if name == "foreign_keys" {
				r.fkValues = append(r.fkValues, b)
			}
		}
	case sqlite3.AUTH_SAVEPOINT:
		op := map[string]string{"BEGIN": "SAVEPOINT", "RELEASE": "RELEASE", "ROLLBACK": "ROLLBACK TO"}[a]
		r.txControl = append(r.txControl, op+" "+b)
	case sqlite3.AUTH_FUNCTION:
		r.functions[strings.ToLower(b)] = true
	}
	return sqlite3.AUTH_OK
}

// engineReads are the pragmas the store may read inside a migration's
// transaction for its own checks (foreign keys, connection state).
var engineReads = map[string]bool{"foreign_keys": true, "foreign_key_check": true, "foreign_key_list": true,
	"defer_foreign_keys": true, "legacy_alter_table": true, "recursive_triggers": true}
