package idb

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/wasm/vfscore"
	"github.com/larderdb/larder/wasm/vfscore/crashtest"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// memStore is a fake IndexedDB database: commits are atomic, and a crash
// schedule makes the crashAt-th operation fail (a crashing commit lands or
// not, at random, as a worker killed while IndexedDB commits) and every
// later one too.
type memStore struct {
	mu         sync.Mutex
	blocks     map[string]map[int64][]byte
	sizes      map[string]int64
	rng        *rand.Rand
	ops        int
	crashAt    int
	crashed    bool
	quota      int64          // total stored bytes allowed; 0: no limit
	commits    map[string]int // successful commits per file
	durability string         // hint of the last commit
	revoked    bool           // the "browser" closed the connection
	acquired   int            // how many times the backend acquired it
}

var _ store = (*memStore)(nil)

func newMemStore(rng *rand.Rand, crashAt int) *memStore {
	return &memStore{blocks: map[string]map[int64][]byte{}, sizes: map[string]int64{}, commits: map[string]int{}, rng: rng, crashAt: crashAt}
}

func (s *memStore) tick() (crashing bool, err error) {
	if s.crashed {
		return false, crashtest.ErrCrashed
	}
	s.ops++
	if s.ops == s.crashAt {
		s.crashed = true
		return true, nil
	}
	return false, nil
}

func (s *memStore) get(file string, first, n int64) (map[int64][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if crashing, err := s.tick(); crashing || err != nil {
		return nil, crashtest.ErrCrashed
	}
	out := map[int64][]byte{}
	for i := first; i < first+n; i++ {
		if b, ok := s.blocks[file][i]; ok {
			out[i] = slices.Clone(b)
		}
	}
	return out, nil
}

func (s *memStore) commit(file string, size, from int64, blocks map[int64][]byte, durability string) error {
	s.durability = durability
	s.mu.Lock()
	defer s.mu.Unlock()
	crashing, err := s.tick()
	if err != nil {
		return err
	}
	if s.quota > 0 && s.storedBytes()+int64(len(blocks))*blockSize > s.quota {
		return &jsutil.DOMError{Name: "QuotaExceededError", Message: "fake quota"}
	}
	if crashing && s.rng.IntN(2) == 0 {
		return crashtest.ErrCrashed // the transaction never landed
	}
	m := s.blocks[file]
	if m == nil {
		m = map[int64][]byte{}
		s.blocks[file] = m
	}
	if from >= 0 {
		maps.DeleteFunc(m, func(i int64, _ []byte) bool { return i >= from })
	}
	for i, b := range blocks {
		if len(b) != blockSize {
			panic("block of wrong size")
		}
		m[i] = slices.Clone(b)
	}
	s.sizes[file] = size
	s.commits[file]++
	if crashing {
		return crashtest.ErrCrashed // landed, but the worker died before hearing so
	}
	return nil
}

func (s *memStore) storedBytes() int64 {
	var n int64
	for _, m := range s.blocks {
		n += int64(len(m)) * blockSize
	}
	return n
}

// recovered is the store a new page finds after a crash: what was
// committed, never crashing.
func (s *memStore) recovered(rng *rand.Rand) *memStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := newMemStore(rng, 0)
	for f, m := range s.blocks {
		n.blocks[f] = maps.Clone(m)
	}
	n.sizes = maps.Clone(s.sizes)
	n.quota = s.quota
	return n
}

// memBackend acquires databases on one memStore (tests use one database).
type memBackend struct{ st *memStore }

func (b memBackend) Acquire(context.Context, string) (vfscore.Files, error) {
	b.st.mu.Lock()
	sizes := maps.Clone(b.st.sizes)
	b.st.acquired++
	b.st.revoked = false
	b.st.mu.Unlock()
	fs := newFiles(b.st, sizes, func() error { return nil })
	fs.revoked = func() bool {
		b.st.mu.Lock()
		defer b.st.mu.Unlock()
		return b.st.revoked
	}
	return fs, nil
}

// storeTrial is a crashtest.Trial of the idb VFS core over a memStore.
type storeTrial struct {
	st      *memStore
	vfsName string
}

var _ crashtest.Quotaed = (*storeTrial)(nil)

func newStoreTrial(rng *rand.Rand, crashAt int) crashtest.Trial {
	t := &storeTrial{st: newMemStore(rng, crashAt)}
	t.register()
	return t
}

func (t *storeTrial) register() {
	v, err := newVFS(memBackend{t.st})
	if err != nil {
		panic(err)
	}
	t.vfsName = crashtest.Register("idbtest", v)
}

func (t *storeTrial) Open() (*sqlite3.Conn, error) {
	return sqlite3.Open("file:test.db?vfs=" + t.vfsName)
}

func (t *storeTrial) Crash() {
	t.st.mu.Lock()
	t.st.crashed = true
	t.st.mu.Unlock()
}

func (t *storeTrial) Crashed() bool {
	t.st.mu.Lock()
	defer t.st.mu.Unlock()
	return t.st.crashed
}

func (t *storeTrial) Ops() int {
	t.st.mu.Lock()
	defer t.st.mu.Unlock()
	return t.st.ops
}

func (t *storeTrial) SetQuota(n int64) {
	t.st.mu.Lock()
	t.st.quota = t.st.storedBytes() + n
	t.st.mu.Unlock()
}

func (t *storeTrial) Restart(rng *rand.Rand) {
	t.Close()
	t.st = t.st.recovered(rng)
	t.register()
}

func (t *storeTrial) Close() { vfs.Unregister(t.vfsName) }
