package vfscore

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// sliceHandle is a plain in-memory Handle that counts writes.
type sliceHandle struct {
	data, flushed []byte
	writes        int
}

func (s *sliceHandle) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.data)) {
		return 0, nil
	}
	return copy(p, s.data[off:]), nil
}

func (s *sliceHandle) WriteAt(p []byte, off int64) (int, error) {
	s.writes++
	if end := off + int64(len(p)); end > int64(len(s.data)) {
		s.data = append(s.data, make([]byte, end-int64(len(s.data)))...)
	}
	return copy(s.data[off:], p), nil
}

func (s *sliceHandle) Truncate(size int64) error {
	if size <= int64(len(s.data)) {
		s.data = s.data[:size]
	} else {
		s.data = append(s.data, make([]byte, size-int64(len(s.data)))...)
	}
	return nil
}

func (s *sliceHandle) Size() (int64, error) { return int64(len(s.data)), nil }
func (s *sliceHandle) Flush() error         { s.flushed = bytes.Clone(s.data); return nil }

// TestBufferedHandleModel: through random writes (mostly contiguous, as a
// WAL), reads, truncates and flushes, a buffered handle reads, sizes and
// flushes exactly like an unbuffered one, with fewer writes.
func TestBufferedHandleModel(t *testing.T) {
	var direct, buffered int
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 3))
		plain, inner := &sliceHandle{}, &sliceHandle{}
		b := newBufferedHandle(inner, 16<<10)
		next := int64(0)
		for step := range 300 {
			switch k := rng.IntN(10); {
			case k < 6:
				off := next
				if rng.IntN(4) == 0 {
					off = rng.Int64N(64 << 10)
				}
				p := make([]byte, 1+rng.IntN(5000))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				plain.WriteAt(p, off)
				if n, err := b.WriteAt(p, off); n != len(p) || err != nil {
					t.Fatalf("seed %d step %d: WriteAt = %d, %v", seed, step, n, err)
				}
				next = off + int64(len(p))
			case k < 8:
				off := rng.Int64N(80 << 10)
				p, q := make([]byte, 1+rng.IntN(9000)), make([]byte, 0)
				q = make([]byte, len(p))
				n1, _ := plain.ReadAt(p, off)
				n2, err := b.ReadAt(q, off)
				if n1 != n2 || err != nil || !bytes.Equal(p[:n1], q[:n2]) {
					t.Fatalf("seed %d step %d: ReadAt at %d: %d vs %d bytes (%v)", seed, step, off, n1, n2, err)
				}
			case k < 9:
				size := rng.Int64N(80 << 10)
				plain.Truncate(size)
				if err := b.Truncate(size); err != nil {
					t.Fatal(err)
				}
			default:
				plain.Flush()
				if err := b.Flush(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(plain.flushed, inner.flushed) {
					t.Fatalf("seed %d step %d: flushed contents differ", seed, step)
				}
			}
			s1, _ := plain.Size()
			s2, _ := b.Size()
			if s1 != s2 {
				t.Fatalf("seed %d step %d: Size %d, want %d", seed, step, s2, s1)
			}
		}
		direct += plain.writes
		buffered += inner.writes
	}
	if buffered >= direct {
		t.Errorf("buffering made %d writes, unbuffered %d", buffered, direct)
	}
	t.Logf("%d writes became %d", direct, buffered)
}

// TestBufferedShortWrite: a short count when the buffer is written out is
// reported as the quota error.
func TestBufferedShortWrite(t *testing.T) {
	b := newBufferedHandle(shortHandle{&sliceHandle{}}, 1<<10)
	if _, err := b.WriteAt(make([]byte, 100), 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); !IsQuota(err) {
		t.Errorf("Flush after a short write: %v, want a quota error", err)
	}
}

type shortHandle struct{ *sliceHandle }

func (s shortHandle) WriteAt(p []byte, off int64) (int, error) {
	n, err := s.sliceHandle.WriteAt(p[:len(p)/2], off)
	return n, err
}
