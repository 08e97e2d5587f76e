package backup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/larderdb/larder/backup"
	"github.com/larderdb/larder/migrations/sqlite"
)

func count(db string) int64 {
	conn, _ := sqlite.OpenExisting(db)
	defer conn.Close()
	stmt, _, _ := conn.Prepare("SELECT count(*) FROM note")
	defer stmt.Close()
	stmt.Step()
	return stmt.ColumnInt64(0)
}

func addNote(db string) {
	conn, _ := sqlite.OpenExisting(db)
	defer conn.Close()
	conn.Exec("INSERT INTO note (body) VALUES ('hello')")
}

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "larder-example")
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "app.db")

	// A migrated database with one note.
	backup.Reset(ctx, db, backup.ResetOptions{Migrations: migs})
	addNote(db)

	// Back it up (an explicit path here; "" picks app.db.<UTC time>.bak).
	saved, err := backup.Backup(ctx, db, filepath.Join(dir, "one-note.bak"))
	fmt.Println(filepath.Base(saved), err)

	addNote(db)
	fmt.Println("notes now:", count(db))

	// Restore refuses what is not a Larder database...
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a database"), 0o644)
	_, err = backup.Restore(ctx, db, filepath.Join(dir, "notes.txt"), known)
	fmt.Println("restore notes.txt:", errors.Is(err, backup.ErrInvalid))

	// ...and replaces the database with a valid backup, after backing up
	// the current one beside it.
	snap, err := backup.Restore(ctx, db, saved, known)
	fmt.Println("restored:", err, "notes:", count(db))
	fmt.Println("previous database kept:", regexp.MustCompile(`^app\.db\.\d{8}T\d{6}Z\.bak$`).MatchString(filepath.Base(snap.Path)), count(snap.Path), "notes")

	// Reset rebuilds it from the migrations, again after a backup.
	res, err := backup.Reset(ctx, db, backup.ResetOptions{Migrations: migs})
	fmt.Println("reset:", err, len(res.Migrated), "migrations applied, notes:", count(db), "backup holds:", count(res.Backup.Path))
	// Output:
	// one-note.bak <nil>
	// notes now: 2
	// restore notes.txt: true
	// restored: <nil> notes: 1
	// previous database kept: true 2 notes
	// reset: <nil> 2 migrations applied, notes: 0 backup holds: 1
}
