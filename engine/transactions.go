package engine

import (
	"context"
	"time"

	"github.com/larderdb/larder/internal/jsutil"
)

// acquire takes the gate for a request: requests inside the open
// transaction tx go straight through; others wait until no transaction is
// open. The returned func gives it back.
func (d *Database) acquire(ctx context.Context, tx uint64) (release func(), err error) {
	if tx != 0 {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, d.closedErr()
		}
		if d.tx != tx {
			d.mu.Unlock()
			return nil, Errorf("SQLITE_MISUSE", "transaction %d is no longer open (committed, rolled back, or idle for more than %s)", tx, d.txIdle())
		}
		d.touch()
		return d.mu.Unlock, nil
	}
	if err := d.takeGate(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		<-d.gate
		return nil, d.closedErr()
	}
	return func() { d.mu.Unlock(); <-d.gate }, nil
}

// takeGate waits for the gate. Its holder may be a transaction that only
// a later call from the page ends, so a wait is announced to the bridge
// (jsutil.Blocking), which then answers the page asynchronously.
func (d *Database) takeGate(ctx context.Context) error {
	select {
	case d.gate <- struct{}{}:
		return nil
	default:
	}
	done := jsutil.Blocking()
	defer done()
	select {
	case d.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Database) txIdle() time.Duration {
	if d.host.TxIdle > 0 {
		return d.host.TxIdle
	}
	return TxIdleTimeout
}

// touch restarts the idle timer of the open transaction. d.mu held.
func (d *Database) touch() {
	if d.txTimer != nil {
		d.txTimer.Reset(d.txIdle())
	}
}

// Begin starts a transaction (BEGIN IMMEDIATE) and returns its id. Until
// Commit or Rollback, requests without that id wait.
func (d *Database) Begin(ctx context.Context) (uint64, error) {
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return 0, err
	}
	if err := d.conn.Exec("BEGIN IMMEDIATE"); err != nil {
		release()
		return 0, err
	}
	d.txSeq++
	id := d.txSeq
	d.tx = id
	d.txTimer = time.AfterFunc(d.txIdle(), func() { d.abandon(id) })
	d.mu.Unlock() // keep the gate
	return id, nil
}

// end finishes transaction tx with COMMIT or ROLLBACK and frees the gate.
func (d *Database) end(tx uint64, sql string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.closedErr()
	}
	if d.tx != tx || tx == 0 {
		return Errorf("SQLITE_MISUSE", "transaction %d is no longer open", tx)
	}
	err := d.conn.Exec(sql)
	if err != nil && !d.conn.GetAutocommit() {
		d.conn.Exec("ROLLBACK")
	}
	d.finishTx()
	d.flush(err != nil)
	return err
}

// finishTx forgets the open transaction and frees the gate. d.mu held.
func (d *Database) finishTx() {
	d.tx = 0
	if d.txTimer != nil {
		d.txTimer.Stop()
		d.txTimer = nil
	}
	<-d.gate
}

// Commit commits transaction tx; if COMMIT fails it is rolled back.
func (d *Database) Commit(tx uint64) error { return d.end(tx, "COMMIT") }

// Rollback rolls transaction tx back.
func (d *Database) Rollback(tx uint64) error { return d.end(tx, "ROLLBACK") }

func (d *Database) abandon(tx uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.tx != tx {
		return
	}
	if !d.conn.GetAutocommit() {
		d.conn.Exec("ROLLBACK")
	}
	d.finishTx()
	clear(d.pending)
}
