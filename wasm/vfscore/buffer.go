package vfscore

import "fmt"

// bufferedHandle coalesces contiguous writes (SQLite writes a WAL frame as
// a 24-byte header and a page, and frames one after another) into one
// WriteAt of the underlying handle, because each call of an OPFS sync
// access handle crosses from Go to JavaScript and costs far more than the
// copy. Buffered bytes are written before any read that reaches them,
// before a truncate, and before a flush, so that the handle's contents
// and durability are exactly those of the unbuffered handle at every Flush.
type bufferedHandle struct {
	h   Handle
	max int
	buf []byte
	off int64 // file offset of buf[0]
}

var _ Handle = (*bufferedHandle)(nil)

func newBufferedHandle(h Handle, max int) *bufferedHandle {
	return &bufferedHandle{h: h, max: max}
}

// drain writes the buffer. A short count is a full quota.
func (b *bufferedHandle) drain() error {
	if len(b.buf) == 0 {
		return nil
	}
	n, err := b.h.WriteAt(b.buf, b.off)
	want := len(b.buf)
	b.buf = b.buf[:0]
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("wrote %d of %d bytes: %w", uint32(n), want, ErrQuota)
	}
	return nil
}

// reaches reports whether a read of n bytes at off reaches the buffered
// bytes, or the gap they would leave between the handle's end and them.
func (b *bufferedHandle) reaches(off int64, n int) bool {
	return len(b.buf) > 0 && off+int64(n) > min(b.off, b.size())
}

// size is the underlying size, or the buffer's offset if unknown.
func (b *bufferedHandle) size() int64 {
	size, err := b.h.Size()
	if err != nil {
		return b.off
	}
	return size
}

// ReadAt implements [Handle].
func (b *bufferedHandle) ReadAt(p []byte, off int64) (int, error) {
	if b.reaches(off, len(p)) {
		if err := b.drain(); err != nil {
			return 0, err
		}
	}
	return b.h.ReadAt(p, off)
}

// WriteAt implements [Handle]. An error of an earlier buffered write may
// surface here.
func (b *bufferedHandle) WriteAt(p []byte, off int64) (int, error) {
	if len(b.buf) > 0 && off == b.off+int64(len(b.buf)) && len(b.buf)+len(p) <= b.max {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	if err := b.drain(); err != nil {
		return 0, err
	}
	if len(p) >= b.max {
		return b.h.WriteAt(p, off)
	}
	b.buf = append(b.buf[:0], p...)
	b.off = off
	return len(p), nil
}

// Truncate implements [Handle].
func (b *bufferedHandle) Truncate(size int64) error {
	if err := b.drain(); err != nil {
		return err
	}
	return b.h.Truncate(size)
}

// Size implements [Handle].
func (b *bufferedHandle) Size() (int64, error) {
	size, err := b.h.Size()
	if err != nil {
		return 0, err
	}
	if len(b.buf) > 0 {
		size = max(size, b.off+int64(len(b.buf)))
	}
	return size, nil
}

// Flush implements [Handle].
func (b *bufferedHandle) Flush() error {
	if err := b.drain(); err != nil {
		return err
	}
	return b.h.Flush()
}
