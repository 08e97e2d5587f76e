package engine

import (
	"context"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/syncer"
)

// A Database is one open SQLite connection shared by every handle on it.
type Database struct {
	host    *Host
	name    string
	storage string
	st      Storage
	refs    int // guarded by host.openMu

	gate chan struct{} // held by one call, or by a transaction from begin to commit

	mu      sync.Mutex // guards conn and what follows
	conn    *sqlite3.Conn
	closed  bool
	tx      uint64 // open transaction id, 0 if none
	txSeq   uint64
	txTimer *time.Timer
	version int64
	known   []*migrations.Migration // the newest set of migrations an open passed: imports are checked against it
	pending map[string]struct{}     // tables written since the last commit
	stmts   *stmtCache              // prepared statements by SQL text
	mode    prepareMode             // what the authorizer does (authorizer.go)
	reads   map[string]struct{}     // ReadSet: the tables read

	syncMu     sync.Mutex     // one sync round at a time (sync.go)
	syncClient *syncer.Client // nil: not opened for sync
	syncText   string         // the declaration syncClient was installed with
}

// Name returns the database name.
func (d *Database) Name() string { return d.name }

// Storage returns the backend the database lives on.
func (d *Database) Storage() string { return d.storage }

// Version returns the newest applied migration.
func (d *Database) Version() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

func (d *Database) closedErr() error {
	return Errorf(CodeClosed, "database %q is closed", d.name)
}

// shutdown closes the connection and releases the storage; every handle on
// d then gets LARDER_CLOSED. Called with host.openMu held.
func (d *Database) shutdown() error {
	d.mu.Lock()
	if d.tx != 0 { // an open transaction: roll it back rather than wait for it
		d.mu.Unlock()
		d.abandon(d.tx)
	} else {
		d.mu.Unlock()
	}
	d.takeGate(context.Background()) // wait for the running call
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		<-d.gate
		return nil
	}
	d.closed = true
	d.stmts.clear()
	d.closeSync()
	err := d.conn.Close()
	if rerr := d.st.Release(d.name); err == nil {
		err = rerr
	}
	<-d.gate
	return err
}
