package vfscore

import (
	"context"
	"errors"
	"io"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// ErrQuota is the cause of SQLITE_FULL when a write came back short: the
// browser's storage quota is exhausted.
var ErrQuota = errors.New("storage quota exceeded")

// IOError tags err, from a Handle, with the SQLite error code for it: a
// QuotaExceededError, a short write or [ErrQuota] become SQLITE_FULL,
// anything else def. err stays the cause (sqlite3.Error's Unwrap returns
// it). A nil err, or one that already is an SQLite code, is returned as is.
func IOError[T ~uint8 | ~uint16](err error, def T) error {
	if err == nil || isCode(err) {
		return err
	}
	if IsQuota(err) {
		return vfs.SystemError(err, sqlite3.FULL)
	}
	return vfs.SystemError(err, def)
}

// OpenError tags err from opening storage with an SQLite code:
// SQLITE_BUSY when another owner holds the storage
// (NoModificationAllowedError, or a wait for it that timed out), SQLITE_FULL
// for quota, SQLITE_CANTOPEN otherwise.
func OpenError(err error) error {
	if err == nil || isCode(err) {
		return err
	}
	switch {
	case IsQuota(err):
		return vfs.SystemError(err, sqlite3.FULL)
	case IsBusy(err), errors.Is(err, context.DeadlineExceeded):
		return vfs.SystemError(err, sqlite3.BUSY)
	}
	return vfs.SystemError(err, sqlite3.CANTOPEN)
}

// IsQuota reports whether err means the storage quota is exhausted.
func IsQuota(err error) bool {
	return errors.Is(err, ErrQuota) || errors.Is(err, io.ErrShortWrite) || domName(err) == "QuotaExceededError"
}

// IsBusy reports whether err means another owner holds the storage: OPFS
// sync access handles are exclusive and may still be held by a previous
// page that is closing after a reload.
func IsBusy(err error) bool {
	switch domName(err) {
	case "NoModificationAllowedError", "InvalidModificationError":
		return true
	}
	return false
}

// IsNotFound reports whether err is a DOM NotFoundError.
func IsNotFound(err error) bool { return domName(err) == "NotFoundError" }

func domName(err error) string {
	var de *jsutil.DOMError
	if errors.As(err, &de) {
		return de.Name
	}
	return ""
}

func isCode(err error) bool {
	switch err.(type) {
	case sqlite3.ErrorCode, sqlite3.ExtendedErrorCode:
		return true
	}
	return false
}
