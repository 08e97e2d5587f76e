//go:build !js

package idb

import (
	"context"
	"errors"

	"github.com/larderdb/larder/wasm/vfscore"
)

var errUnavailable = errors.New("IndexedDB exists only in a browser (GOOS=js)")

type platformBackend struct{}

func (platformBackend) Acquire(context.Context, string) (vfscore.Files, error) {
	return nil, errUnavailable
}

func available() bool { return false }

func deleteDatabase(context.Context, string) error { return errUnavailable }
