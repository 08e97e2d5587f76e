package main

import (
	"flag"
	"testing"
)

func TestIsPathFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("db", "", "SQLite database `FILE`")
	fs.String("dir", "", "migrations `DIR`ectory")
	fs.String("web", "", "from this `directory`")
	fs.String("ignore", "", "`CODE:FILE` to acknowledge")
	fs.String("addr", "", "`host:port` to listen on")
	fs.String("to", "", "up to `N`")
	fs.Int("n", 0, "a count")
	want := map[string]bool{"db": true, "dir": true, "web": true, "ignore": false, "addr": false, "to": false, "n": false}
	for name, path := range want {
		if got := isPathFlag(fs.Lookup(name)); got != path {
			t.Errorf("isPathFlag(--%s) = %v, want %v", name, got, path)
		}
	}
}
