// Package syncer is the core of Larder's sync: the same rows on every
// device of a user, through the edge, offline first. It is plain Go over
// SQLite (github.com/ncruces/go-sqlite3) on the device and over a small
// Store interface on the server, so the merge and ownership logic runs
// natively in tests and on Cloudflare D1 in the Worker. The edge routes and
// the browser client wiring use it; see docs/sync.md for the model.
//
// The pieces, in the order a change travels:
//
//   - Config (sync.toml beside the migrations) names the synced tables and
//     whose rows they are; Check and CheckDir test it against the schema the
//     migrations build (a synced table needs a TEXT primary key made on the
//     device: UUIDv7 or ULID).
//   - Install creates the device's _sync_state and _sync_outbox and
//     generates AFTER INSERT/UPDATE/DELETE triggers
//     (https://sqlite.org/lang_createtrigger.html) that record every
//     committed write, per changed column, with a hybrid logical clock
//     (HLC), in the writing transaction itself.
//   - Client.Pending reads the outbox as Changes for a PushRequest;
//     Server.Push merges them (ownership per row, per-column last writer
//     wins by HLC, deletes as permanent tombstones, a server sequence per
//     accepted change, each change id applied once) in one atomic
//     Store.Exec; Client.Ack removes what the server answered.
//   - Server.Pull serves a user the current state of the rows they may see
//     that changed after a cursor, a page at a time; Client.Apply applies a
//     page in one transaction with capture off.
//   - Client.Sync runs a whole round (push everything, pull to the end)
//     over a Transport: HTTP to the edge, or Local (a Server in process).
//   - Hello and CheckVersions make the exchange migration-aware:
//     LARDER_OUTDATED for a device behind a breaking migration,
//     LARDER_SERVER_BEHIND for a server behind one.
package syncer
