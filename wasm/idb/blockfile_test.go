package idb

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// TestBlockFileModel runs random writes, truncates, flushes and discards on
// a blockFile with a tiny cache and checks every read against a plain byte
// slice, and the stored file against the last flushed slice.
func TestBlockFileModel(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		st := newMemStore(rng, 0)
		f := newBlockFile(st, "db", 0, 3)
		var cur, flushed []byte
		for step := range 200 {
			switch k := rng.IntN(10); {
			case k < 4:
				off := rng.Int64N(6 * blockSize)
				p := make([]byte, 1+rng.IntN(2*blockSize))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				if n, err := f.WriteAt(p, off); n != len(p) || err != nil {
					t.Fatalf("seed %d step %d: WriteAt = %d, %v", seed, step, n, err)
				}
				if end := off + int64(len(p)); end > int64(len(cur)) {
					cur = append(cur, make([]byte, end-int64(len(cur)))...)
				}
				copy(cur[off:], p)
			case k < 5:
				size := rng.Int64N(7 * blockSize)
				if err := f.Truncate(size); err != nil {
					t.Fatal(err)
				}
				if size < int64(len(cur)) {
					cur = cur[:size]
				} else {
					cur = append(cur, make([]byte, size-int64(len(cur)))...)
				}
			case k < 7:
				if err := f.Flush(); err != nil {
					t.Fatal(err)
				}
				flushed = bytes.Clone(cur)
			case k < 8:
				f.Discard()
				cur = bytes.Clone(flushed)
			default:
				off := rng.Int64N(7 * blockSize)
				p := make([]byte, 1+rng.IntN(2*blockSize))
				n, err := f.ReadAt(p, off)
				want := 0
				if off < int64(len(cur)) {
					want = copy(make([]byte, len(p)), cur[off:])
				}
				if n != want || (n < len(p) && err != io.EOF) {
					t.Fatalf("seed %d step %d: ReadAt(%d bytes at %d) = %d, %v; want %d", seed, step, len(p), off, n, err, want)
				}
				if n > 0 && !bytes.Equal(p[:n], cur[off:off+int64(n)]) {
					t.Fatalf("seed %d step %d: ReadAt at %d returned wrong bytes", seed, step, off)
				}
			}
			if size, _ := f.Size(); size != int64(len(cur)) {
				t.Fatalf("seed %d step %d: Size = %d, want %d", seed, step, size, len(cur))
			}
			if f.cache.len() > 3 {
				t.Fatalf("seed %d step %d: cache holds %d blocks, bound is 3", seed, step, f.cache.len())
			}
		}
		// A fresh file on the store sees exactly the flushed content.
		g := newBlockFile(st, "db", st.sizes["db"], 3)
		got := make([]byte, len(flushed))
		if n, _ := g.ReadAt(got, 0); n != len(flushed) || !bytes.Equal(got, flushed) {
			t.Fatalf("seed %d: stored file differs from the last flush (%d of %d bytes read)", seed, n, len(flushed))
		}
		if size, _ := g.Size(); size != int64(len(flushed)) {
			t.Fatalf("seed %d: stored size %d, want %d", seed, size, len(flushed))
		}
		for i := range st.blocks["db"] {
			if i*blockSize >= int64(len(flushed)) {
				t.Fatalf("seed %d: stale block %d stored past the end (%d bytes)", seed, i, len(flushed))
			}
		}
	}
}
