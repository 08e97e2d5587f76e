//go:build !js && browser

package jsbridge_test

import (
	"testing"
)

// TestBrowserForwardWaitsForSlowOwner: a forwarded call does not time out
// while the owner lives, however long it is busy: the owner's worker runs
// a long statement (it cannot even acknowledge), the other tab's call
// outlives the forwarding timeout (shortened to 300 ms through the
// test-hooks op "__forwarding") and is answered once the owner is free.
func TestBrowserForwardWaitsForSlowOwner(t *testing.T) {
	e := newTestHooksEnv(t)
	owner := e.tab
	client := e.page()
	setup := `window.db = await L.open({ name: "slow", storage: "idb", migrations: [{ version: 1, name: "t", up: "CREATE TABLE t(x)" }] });
await [...L.__runtimes()][0].request({ op: "__forwarding", timeoutMs: 300 });`
	e.run(owner, setup+`return db.storage;`, nil)
	e.run(client, setup+`return db.storage;`, nil)
	// The owner starts a statement that keeps its worker busy for seconds
	// and tells when it has started (its worker is then blocked).
	e.run(owner, `
window.slow = db.query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT count(*) AS n FROM c");
return true;`, nil)
	var got struct {
		Rows      int
		KeptAlive int
	}
	e.run(client, `
await db.exec("INSERT INTO t VALUES (1)");
const rows = (await db.query("SELECT count(*) AS n FROM t"))[0].n;
const { keptAlive } = await [...L.__runtimes()][0].request({ op: "__forwarding" });
return { rows, keptAlive };`, &got)
	if got.Rows != 1 {
		t.Errorf("client sees %d rows, want 1", got.Rows)
	}
	if got.KeptAlive == 0 {
		t.Errorf("no forwarded call outlived the 300 ms timeout: the owner was not slow enough for the test to test anything")
	}
	var n int
	e.run(owner, `return (await window.slow)[0].n;`, &n)
	if n != 1000000 {
		t.Errorf("the owner's long statement counted %d", n)
	}
	e.noErrors(owner)
	e.noErrors(client)
}
