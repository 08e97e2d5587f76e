//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd

package main

// stdinIsTerminal is false where Larder cannot tell: destructive commands
// then need --yes.
func stdinIsTerminal() bool { return false }
