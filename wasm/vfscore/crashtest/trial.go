package crashtest

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/larderdb/larder/wasm/vfscore"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

var registrations atomic.Int64

// Register registers v under a fresh unique name and returns the name.
func Register(prefix string, v vfs.VFS) string {
	name := fmt.Sprintf("%s-%d", prefix, registrations.Add(1))
	vfs.Register(name, v)
	return name
}

// DiskTrial is a [Trial] over a [Disk] of fake files, through the VFS that
// newVFS builds on a [Backend] of that disk.
type DiskTrial struct {
	disk    *Disk
	newVFS  func(vfscore.Backend) (*vfscore.VFS, error)
	vfsName string
}

var _ Quotaed = (*DiskTrial)(nil)

// NewDiskTrial returns a trial on an empty disk crashing at crashAt.
func NewDiskTrial(rng *rand.Rand, crashAt int, newVFS func(vfscore.Backend) (*vfscore.VFS, error)) *DiskTrial {
	t := &DiskTrial{disk: NewDisk(rng, crashAt), newVFS: newVFS}
	t.register()
	return t
}

func (t *DiskTrial) register() {
	v, err := t.newVFS(Backend{Disk: t.disk})
	if err != nil {
		panic(err)
	}
	t.vfsName = Register("crashtest", v)
}

// Disk returns the trial's current disk.
func (t *DiskTrial) Disk() *Disk { return t.disk }

// Open implements [Trial].
func (t *DiskTrial) Open() (*sqlite3.Conn, error) {
	return sqlite3.Open("file:test.db?vfs=" + t.vfsName)
}

// Crash implements [Trial].
func (t *DiskTrial) Crash() { t.disk.Crash() }

// Crashed implements [Trial].
func (t *DiskTrial) Crashed() bool { return t.disk.Crashed() }

// Ops implements [Trial].
func (t *DiskTrial) Ops() int { return t.disk.Ops() }

// SetQuota implements [Quotaed].
func (t *DiskTrial) SetQuota(n int64) {
	t.disk.mu.Lock()
	size := t.disk.size()
	t.disk.mu.Unlock()
	t.disk.SetQuota(size + n)
}

// Restart implements [Trial].
func (t *DiskTrial) Restart(rng *rand.Rand) {
	t.Close()
	t.disk = t.disk.Recover(rng)
	t.register()
}

// Close implements [Trial].
func (t *DiskTrial) Close() { vfs.Unregister(t.vfsName) }
