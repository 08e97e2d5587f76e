//go:build !js

package d1

import (
	"context"
	"errors"
)

// Binding is a D1 database binding; it only exists in a Worker (GOOS=js).
type Binding struct{}

var _ Conn = (*Binding)(nil)

// ErrNotWorker is returned outside a Worker.
var ErrNotWorker = errors.New("d1: D1 bindings exist only in a Cloudflare Worker (GOOS=js GOARCH=wasm)")

// Open fails outside a Worker.
func Open(name string) (*Binding, error) { return nil, ErrNotWorker }

// Batch fails outside a Worker.
func (b *Binding) Batch(ctx context.Context, stmts []Statement) ([][]Row, error) {
	return nil, ErrNotWorker
}
