package syncer_test

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/syncer"
)

// Two devices of one user edit the same note offline, then sync through a
// server: each column keeps its newest write.
func Example() {
	ctx := context.Background()
	schema := "CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, title TEXT, body TEXT)"
	cfg, _ := syncer.Parse([]byte("[tables.notes]\nowner = \"owner\"\n"))

	open := func() *sqlite3.Conn {
		conn, _ := sqlite3.Open(":memory:")
		conn.Exec(schema)
		return conn
	}
	serverDB := open()
	store := syncer.NewConnStore(serverDB)
	server, err := syncer.NewServer(ctx, store, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// In the browser the transport is HTTP to the edge; here the server is
	// called directly, as the user whose token subject is "alice".
	alice := syncer.Local{Server: server, Sub: "alice"}
	sync := func(c *syncer.Client) {
		if _, err := c.Sync(ctx, alice, syncer.Hello{}); err != nil {
			fmt.Println(err)
		}
	}

	laptopDB, phoneDB := open(), open()
	laptop, _ := syncer.Install(ctx, laptopDB, cfg)
	phone, _ := syncer.Install(ctx, phoneDB, cfg)

	laptopDB.Exec("INSERT INTO notes VALUES ('01J9Z', 'alice', 'Groceries', '')")
	sync(laptop)
	sync(phone)
	laptopDB.Exec("UPDATE notes SET title = 'Shopping'")  // offline
	phoneDB.Exec("UPDATE notes SET body = 'milk, bread'") // offline, same row
	sync(laptop)
	sync(phone)
	sync(laptop)

	for _, db := range []*sqlite3.Conn{laptopDB, phoneDB} {
		stmt, _, _ := db.Prepare("SELECT title, body FROM notes")
		for stmt.Step() {
			fmt.Println(stmt.ColumnText(0), "|", stmt.ColumnText(1))
		}
		stmt.Close()
	}
	laptop.Close()
	phone.Close()
	store.Close()
	// Output:
	// Shopping | milk, bread
	// Shopping | milk, bread
}
