//go:build !js && browser

package jsbridge_test

import (
	"testing"
)

const initMigrations = `[{ version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)", down: "DROP TABLE note" }]`

func TestBrowserValues(t *testing.T) {
	e := newEnv(t)
	for _, st := range allStorages {
		t.Run(st, func(t *testing.T) {
			e.t = t
			var got struct {
				Storage  string         `json:"storage"`
				Version  int            `json:"version"`
				Row      map[string]any `json:"row"`
				Types    []string       `json:"types"`
				BlobOK   bool           `json:"blobOK"`
				BigParam string         `json:"bigParam"`
				Named    []any          `json:"named"`
				Exec     map[string]any `json:"exec"`
			}
			e.run(e.tab, `
const db = `+openJS("values-"+st, st, initMigrations)+`;
const blob = new Uint8Array(5 * 1024 * 1024);
for (let i = 0; i < blob.length; i++) blob[i] = (i * 31 + 7) & 255;
await db.exec("CREATE TABLE v(n, i, b, r, t, x)");
const exec = await db.exec("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)", [null, 42, 2n**53n + 1n, 1.5, "héllo ☃ 𝄞", blob]);
const [row] = await db.query("SELECT n, i, b, r, t, x, typeof(b) AS tb, typeof(i) AS ti FROM v");
let blobOK = row.x instanceof Uint8Array && row.x.length === blob.length;
for (let i = 0; blobOK && i < blob.length; i++) if (row.x[i] !== blob[i]) blobOK = false;
const types = [row.n === null, typeof row.i, typeof row.b, typeof row.r, typeof row.t].map(String);
const [big] = await db.query("SELECT ? AS v, typeof(?) AS t", [-(2n**62n), 5n]);
const named = await db.query("SELECT :a AS a, @b AS b, $c AS c", { a: 1, b: "two", c: new Uint8Array([3]) });
await db.close();
return { storage: db.storage, version: db.version, row: T.json({ ...row, x: undefined }), types, blobOK,
         bigParam: String(big.v) + "/" + big.t, named: T.json(named[0] ? Object.values(named[0]) : []), exec: T.json(exec) };
`, &got)
			if got.Storage != st || got.Version != 1 {
				t.Errorf("storage %q version %d", got.Storage, got.Version)
			}
			want := map[string]any{"i": 42.0, "b": "bigint:9007199254740993", "r": 1.5, "t": "héllo ☃ 𝄞", "tb": "integer", "ti": "integer"}
			for k, v := range want {
				if got.Row[k] != v {
					t.Errorf("row[%s] = %v, want %v", k, got.Row[k], v)
				}
			}
			if got.Row["n"] != nil {
				t.Errorf("NULL came back as %v", got.Row["n"])
			}
			if !got.BlobOK {
				t.Error("5 MB blob did not round-trip")
			}
			if got.BigParam != "-4611686018427387904/integer" {
				t.Errorf("bigint param: %s", got.BigParam)
			}
			if len(got.Named) != 3 || got.Named[0] != 1.0 || got.Named[1] != "two" || got.Named[2] != "bytes:1" {
				t.Errorf("named params: %v", got.Named)
			}
			if got.Exec["changes"] != 1.0 || got.Exec["lastInsertRowid"] != 1.0 {
				t.Errorf("exec result: %v", got.Exec)
			}
			e.noErrors(e.tab)
		})
	}
}
