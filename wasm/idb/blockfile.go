package idb

import (
	"container/list"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/larderdb/larder/wasm/vfscore"
)

// blockSize is the size of the blocks files are stored in (layout v1).
// Any SQLite page size works: smaller pages share a block, larger ones span
// several.
const blockSize = 4096

// cacheBlocks bounds the clean blocks each file keeps in memory (8 MiB).
// Unflushed blocks are not bounded by it: they are the pages of the
// transaction being written.
const cacheBlocks = 2048

// store is one Larder database's IndexedDB database, seen from Go. Each
// method is one IndexedDB transaction.
type store interface {
	// get returns the stored blocks first..first+n-1 of file that exist,
	// keyed by index.
	get(file string, first, n int64) (map[int64][]byte, error)
	// commit atomically deletes the blocks of file from index from on
	// (none when from < 0), stores blocks, and records size, as one
	// IndexedDB transaction with the given durability hint.
	commit(file string, size, from int64, blocks map[int64][]byte, durability string) error
}

// blockFile is a file stored as blocks in a store. It is a
// [vfscore.AtomicHandle]: writes and truncates stay in memory until Flush,
// which commits them as one IndexedDB transaction, so the stored file is
// always the file as of some completed Flush.
type blockFile struct {
	st   store
	name string

	size    int64 // current size, unflushed changes included
	durable int64 // size as of the last Flush
	// low is the smallest size since the last Flush. Stored blocks at or
	// past it are stale: they read as zeros and Flush deletes them.
	low     int64
	pending map[int64][]byte // unflushed blocks

	cache      *blockCache
	durability string // IDBTransaction durability hint of commits
}

var (
	_ vfscore.AtomicHandle = (*blockFile)(nil)
	_ vfscore.Configurable = (*blockFile)(nil)
)

// defaultDurability is the IndexedDB durability hint used unless the
// database is opened with ?durability=strict (or relaxed): the browser's
// default, as every IndexedDB library uses. A commit then survives a killed
// worker, a closed tab and a crashed browser; "strict" also survives an OS
// crash or a power loss, at the cost of an fsync per commit.
const defaultDurability = "default"

// Configure implements [vfscore.Configurable]: durability=strict|relaxed|default.
func (f *blockFile) Configure(key, value string) error {
	switch key {
	case "durability":
		switch value {
		case "strict", "relaxed", "default":
			f.durability = value
			return nil
		}
		return fmt.Errorf("durability must be strict, relaxed or default")
	}
	return fmt.Errorf("unknown parameter")
}

func newBlockFile(st store, name string, size int64, capacity int) *blockFile {
	return &blockFile{
		st: st, name: name,
		size: size, durable: size, low: size,
		pending:    map[int64][]byte{},
		cache:      newBlockCache(capacity),
		durability: defaultDurability,
	}
}

// block returns block i as the file currently holds it (nil: zeros). The
// result must not be modified.
func (f *blockFile) block(i int64) ([]byte, error) {
	if b, ok := f.pending[i]; ok {
		return b, nil
	}
	if i*blockSize >= f.low {
		return nil, nil
	}
	if b, ok := f.cache.get(i); ok {
		return b, nil
	}
	// Read ahead: SQLite often reads neighbouring pages next.
	last := min(i+readAhead, divRoundUp(f.low, blockSize)) - 1
	got, err := f.st.get(f.name, i, last-i+1)
	if err != nil {
		return nil, err
	}
	for j := i; j <= last; j++ {
		if _, ok := f.cache.peek(j); !ok || j == i {
			f.cache.put(j, got[j])
		}
	}
	return got[i], nil
}

// readAhead is how many blocks a cache miss fetches.
const readAhead = 16

// ReadAt implements [vfscore.Handle].
func (f *blockFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < f.size {
		i, o := off/blockSize, off%blockSize
		b, err := f.block(i)
		if err != nil {
			return n, err
		}
		m := int(min(int64(len(p)-n), blockSize-o, f.size-off))
		if b == nil {
			clear(p[n : n+m])
		} else {
			copy(p[n:n+m], b[o:])
		}
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements [vfscore.Handle]. Whole blocks need no read; a partial
// one is read first (which may wait for IndexedDB).
func (f *blockFile) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		i, o := off/blockSize, off%blockSize
		m := int(min(int64(len(p)-n), blockSize-o))
		var b []byte
		if m == blockSize {
			b = make([]byte, blockSize)
		} else {
			old, err := f.block(i)
			if err != nil {
				return n, err
			}
			b = make([]byte, blockSize)
			copy(b, old)
		}
		copy(b[o:], p[n:n+m])
		f.pending[i] = b
		n += m
		off += int64(m)
	}
	f.size = max(f.size, off)
	return n, nil
}

// Truncate implements [vfscore.Handle].
func (f *blockFile) Truncate(size int64) error {
	if size >= f.size {
		f.size = size
		return nil
	}
	if o := size % blockSize; o != 0 {
		i := size / blockSize
		old, err := f.block(i)
		if err != nil {
			return err
		}
		b := make([]byte, blockSize)
		copy(b[:o], old)
		f.pending[i] = b
	}
	first := divRoundUp(size, blockSize)
	maps.DeleteFunc(f.pending, func(i int64, _ []byte) bool { return i >= first })
	f.size = size
	f.low = min(f.low, size)
	return nil
}

// Size implements [vfscore.Handle].
func (f *blockFile) Size() (int64, error) { return f.size, nil }

// Flush implements [vfscore.Handle]: one IndexedDB transaction, atomic.
func (f *blockFile) Flush() error {
	if !f.Dirty() {
		return nil
	}
	from := int64(-1)
	if f.low < f.durable {
		from = divRoundUp(f.low, blockSize)
	}
	if err := f.st.commit(f.name, f.size, from, f.pending, f.durability); err != nil {
		return err
	}
	if from >= 0 {
		f.cache.dropFrom(from)
	}
	for _, i := range slices.Sorted(maps.Keys(f.pending)) {
		f.cache.put(i, f.pending[i])
	}
	f.pending = map[int64][]byte{}
	f.durable, f.low = f.size, f.size
	return nil
}

// Dirty implements [vfscore.AtomicHandle].
func (f *blockFile) Dirty() bool {
	return len(f.pending) != 0 || f.size != f.durable || f.low != f.durable
}

// Discard implements [vfscore.AtomicHandle].
func (f *blockFile) Discard() {
	f.pending = map[int64][]byte{}
	f.size, f.low = f.durable, f.durable
}

// preload puts stored blocks into the cache, as far as it has room.
func (f *blockFile) preload(blocks map[int64][]byte) {
	for _, i := range slices.Sorted(maps.Keys(blocks)) {
		if f.cache.len() >= f.cache.capacity {
			return
		}
		f.cache.put(i, blocks[i])
	}
}

func divRoundUp(a, b int64) int64 { return (a + b - 1) / b }

// blockCache is a bounded LRU cache of clean blocks. A nil block is a
// block known to be absent (zeros).
type blockCache struct {
	capacity int
	order    *list.List // front: most recently used; values are int64
	entries  map[int64]*cacheEntry
}

type cacheEntry struct {
	data []byte
	elem *list.Element
}

func newBlockCache(capacity int) *blockCache {
	return &blockCache{capacity: max(capacity, 1), order: list.New(), entries: map[int64]*cacheEntry{}}
}

func (c *blockCache) len() int { return len(c.entries) }

func (c *blockCache) peek(i int64) ([]byte, bool) {
	e, ok := c.entries[i]
	if !ok {
		return nil, false
	}
	return e.data, true
}

func (c *blockCache) get(i int64) ([]byte, bool) {
	e, ok := c.entries[i]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e.elem)
	return e.data, true
}

func (c *blockCache) put(i int64, b []byte) {
	if e, ok := c.entries[i]; ok {
		e.data = b
		c.order.MoveToFront(e.elem)
		return
	}
	c.entries[i] = &cacheEntry{data: b, elem: c.order.PushFront(i)}
	for len(c.entries) > c.capacity {
		last := c.order.Back()
		delete(c.entries, last.Value.(int64))
		c.order.Remove(last)
	}
}

func (c *blockCache) dropFrom(first int64) {
	for i, e := range c.entries {
		if i >= first {
			c.order.Remove(e.elem)
			delete(c.entries, i)
		}
	}
}
