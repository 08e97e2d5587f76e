package main_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/larderdb/larder/internal/testdb"
)

// openPTY returns the two ends of a new pseudo-terminal (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// resetOnTerminal runs `db reset` without --yes, stdin on a terminal,
// answering the prompt with answer.
func resetOnTerminal(t *testing.T, l dbLayout, answer string) result {
	t.Helper()
	master, tty := openPTY(t)
	cmd := exec.Command(larderBin, "db", "reset", "--db", l.db, "--dir", l.migs)
	var out bytes.Buffer
	errb := &lockedBuffer{}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, master) // the terminal echoes the answer
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "Continue?") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	master.Write([]byte(answer + "\n"))
	return exited(t, cmd.Wait(), &out, errb)
}

// lockedBuffer is read while the command writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestDBResetAsksOnTerminal(t *testing.T) {
	l := newDBLayout(t)
	larder(t, "migrate", "up", "--db", l.db, "--dir", l.migs).want(t, 0)
	larder(t, "db", "seed", "--db", l.db, "--dir", l.seeds).want(t, 0)
	want := testdb.ReadFile(t, l.db)

	resetOnTerminal(t, l, "n").want(t, 1, "Continue? [y/N]", "reset cancelled")
	if !bytes.Equal(testdb.ReadFile(t, l.db), want) {
		t.Fatal("answering n changed the database")
	}
	if m, _ := filepath.Glob(filepath.Join(l.root, "*.bak")); len(m) != 0 {
		t.Fatalf("answering n made backups: %v", m)
	}

	r := resetOnTerminal(t, l, "y")
	r.want(t, 0, "replace "+l.db, "applied 2 migrations")
	if sqlText(t, backupPath(t, r), "SELECT count(*) FROM users") != "1" || sqlText(t, l.db, "SELECT count(*) FROM users") != "0" {
		t.Fatal("reset after y: backup or new database wrong")
	}
}
