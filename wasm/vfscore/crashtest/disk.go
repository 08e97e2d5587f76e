package crashtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/larderdb/larder/wasm/vfscore"
)

// ErrCrashed is what every operation of a crashed [Disk] returns.
var ErrCrashed = errors.New("crashtest: simulated crash")

// Disk is a set of fake files sharing one operation counter and one crash
// schedule: the crashAt-th operation (counting from 1) fails, and so does
// every later one. A quota, when set, caps the total size of the files: a
// write beyond it comes back short, as an OPFS sync access handle does.
type Disk struct {
	mu      sync.Mutex
	ops     int
	crashAt int
	crashed bool
	quota   int64
	rng     *rand.Rand
	files   map[string]*File
}

// NewDisk returns an empty disk that crashes at operation crashAt (never
// when 0). rng decides torn writes and what survives a crash.
func NewDisk(rng *rand.Rand, crashAt int) *Disk {
	return &Disk{crashAt: crashAt, rng: rng, files: map[string]*File{}}
}

// SetQuota caps the total bytes of all files (0: no cap).
func (d *Disk) SetQuota(n int64) {
	d.mu.Lock()
	d.quota = n
	d.mu.Unlock()
}

// Ops returns how many operations the disk has served.
func (d *Disk) Ops() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ops
}

// Crash makes every further operation fail.
func (d *Disk) Crash() {
	d.mu.Lock()
	d.crashed = true
	d.mu.Unlock()
}

// Crashed reports whether the disk has crashed.
func (d *Disk) Crashed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.crashed
}

// tick counts one operation; it reports whether this operation is the one
// that crashes (crashing), or whether the disk had crashed before (err).
// +checklocks:d.mu
func (d *Disk) tick() (crashing bool, err error) {
	if d.crashed {
		return false, ErrCrashed
	}
	d.ops++
	if d.ops == d.crashAt {
		d.crashed = true
		return true, nil
	}
	return false, nil
}

// File returns the file called name, creating it empty.
func (d *Disk) File(name string) *File {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.files[name]
	if f == nil {
		f = &File{disk: d}
		d.files[name] = f
	}
	return f
}

// Put stores content as the flushed content of file name.
func (d *Disk) Put(name string, content []byte) {
	f := d.File(name)
	d.mu.Lock()
	f.durable, f.cur, f.pending = slices.Clone(content), slices.Clone(content), nil
	d.mu.Unlock()
}

// Durable returns the flushed content of file name (nil if none).
func (d *Disk) Durable(name string) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f := d.files[name]; f != nil {
		return slices.Clone(f.durable)
	}
	return nil
}

// Recover returns a new disk holding what survives the crash: each file's
// flushed content plus a random subset of its unflushed writes and
// truncates, applied in order, some writes torn at a 512-byte boundary.
// The new disk never crashes.
func (d *Disk) Recover(rng *rand.Rand) *Disk {
	d.mu.Lock()
	defer d.mu.Unlock()
	nd := NewDisk(rng, 0)
	for name, f := range d.files {
		img := slices.Clone(f.durable)
		for _, op := range f.pending {
			if rng.IntN(2) == 0 {
				continue // lost
			}
			if op.write {
				data := op.data
				if rng.IntN(4) == 0 {
					data = data[:rng.IntN(len(data)/512+1)*512]
				}
				img = writeAt(img, data, op.off)
			} else {
				img = truncate(img, op.off)
			}
		}
		nd.files[name] = &File{disk: nd, durable: img, cur: slices.Clone(img)}
	}
	return nd
}

// Size returns the total size of the current contents of every file.
// +checklocks:d.mu
func (d *Disk) size() int64 {
	var n int64
	for _, f := range d.files {
		n += int64(len(f.cur))
	}
	return n
}

// File is a fake file: a [vfscore.Handle] whose writes and truncates stay
// pending until Flush, and may be lost (in part, torn) by a crash.
type File struct {
	disk    *Disk
	durable []byte
	cur     []byte
	pending []op
	flushes int
}

type op struct {
	write bool
	off   int64 // write offset or truncate size
	data  []byte
}

var _ vfscore.Handle = (*File)(nil)

// ReadAt implements [vfscore.Handle].
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	if crashing, err := d.tick(); err != nil || crashing {
		return 0, ErrCrashed
	}
	if off >= int64(len(f.cur)) {
		return 0, io.EOF
	}
	n := copy(p, f.cur[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements [vfscore.Handle]. The crashing write lands torn.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	crashing, err := d.tick()
	if err != nil {
		return 0, err
	}
	data := slices.Clone(p)
	if crashing {
		data = data[:d.rng.IntN(len(data)+1)]
	}
	if d.quota > 0 {
		grow := off + int64(len(data)) - int64(len(f.cur))
		if room := d.quota - d.size(); grow > room {
			data = data[:max(0, int64(len(data))-(grow-room))]
		}
	}
	f.cur = writeAt(f.cur, data, off)
	f.pending = append(f.pending, op{write: true, off: off, data: data})
	if crashing {
		return len(data), ErrCrashed
	}
	return len(data), nil
}

// Truncate implements [vfscore.Handle].
func (f *File) Truncate(size int64) error {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	if crashing, err := d.tick(); err != nil || crashing {
		return ErrCrashed
	}
	f.cur = truncate(f.cur, size)
	f.pending = append(f.pending, op{off: size})
	return nil
}

// Size implements [vfscore.Handle].
func (f *File) Size() (int64, error) {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	if crashing, err := d.tick(); err != nil || crashing {
		return 0, ErrCrashed
	}
	return int64(len(f.cur)), nil
}

// Flush implements [vfscore.Handle]: pending writes become durable.
func (f *File) Flush() error {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	if crashing, err := d.tick(); err != nil || crashing {
		return ErrCrashed
	}
	f.durable = slices.Clone(f.cur)
	f.pending = nil
	f.flushes++
	return nil
}

// Flushes returns how many times the file was flushed.
func (f *File) Flushes() int {
	f.disk.mu.Lock()
	defer f.disk.mu.Unlock()
	return f.flushes
}

func writeAt(b, p []byte, off int64) []byte {
	if end := off + int64(len(p)); end > int64(len(b)) {
		b = append(b, make([]byte, end-int64(len(b)))...)
	}
	copy(b[off:], p)
	return b
}

func truncate(b []byte, size int64) []byte {
	if size <= int64(len(b)) {
		return b[:size]
	}
	return append(b, make([]byte, size-int64(len(b)))...)
}

// Backend is a [vfscore.Backend] whose databases are files on a Disk,
// named "<db>.<kind>".
type Backend struct{ Disk *Disk }

var _ vfscore.Backend = Backend{}

// Acquire implements [vfscore.Backend].
func (b Backend) Acquire(_ context.Context, name string) (vfscore.Files, error) {
	return files{b.Disk, name}, nil
}

type files struct {
	disk *Disk
	name string
}

func (fs files) Handle(k vfscore.Kind) (vfscore.Handle, error) {
	return fs.disk.File(fmt.Sprintf("%s.%s", fs.name, k)), nil
}

func (fs files) Close() error { return nil }
