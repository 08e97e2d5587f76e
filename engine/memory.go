package engine

import (
	"context"
	"sync"

	"github.com/ncruces/go-sqlite3/vfs/memdb"
)

// Memory is the "memory" storage: ncruces's memdb VFS. Its databases live
// as long as the larder.wasm instance (the worker) or until reset, and are
// only used when asked for by name — never as a fallback.
type Memory struct {
	mu    sync.Mutex
	names map[string]bool
}

var _ Storage = (*Memory)(nil)

// NewMemory returns the memory storage.
func NewMemory() *Memory { return &Memory{names: map[string]bool{}} }

func memName(name string) string { return "larder/" + name }

func (*Memory) Available() bool { return true }

// Preopen creates the shared memdb database the first time, so that it
// outlives the connections on it (close, then open again, finds the data).
func (m *Memory) Preopen(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.names[name] {
		memdb.Create(memName(name), nil)
		m.names[name] = true
	}
	return nil
}

func (*Memory) URI(name string) string { return "file:/" + memName(name) + "?vfs=memdb" }
func (*Memory) Pragmas() []string      { return nil }
func (*Memory) Release(string) error   { return nil }

// Delete drops the database's memory.
func (m *Memory) Delete(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	memdb.Delete(memName(name))
	delete(m.names, name)
	return nil
}
