package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseSyncConfig(t *testing.T) {
	placeholder, err := os.ReadFile("sync.toml")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"placeholder": string(placeholder), "empty": "", "blank": "\n  \n"} {
		if cfg, id, err := parseSyncConfig([]byte(text)); cfg != nil || id != "" || err != nil {
			t.Errorf("%s: %v %q %v, want no sync", name, cfg, id, err)
		}
	}
	cfg, id, err := parseSyncConfig([]byte("[tables.notes]\nowner = \"owner_id\"\n"))
	if err != nil || cfg == nil || cfg.Tables["notes"].Owner != "owner_id" || len(id) != 32 {
		t.Fatalf("%v %q %v", cfg, id, err)
	}
	if _, _, err := parseSyncConfig([]byte("[tables.notes]\nownr = \"x\"\n")); err == nil || !strings.Contains(err.Error(), "ownr") {
		t.Fatalf("a misspelt key: %v", err)
	}
}

func TestSyncArgsBindBigIntegersAsDigits(t *testing.T) {
	got := syncArgs([]any{int64(1 << 53), int64(1<<53 + 1), int64(-1<<53 - 1), "x", nil, 2.5, []byte{1}})
	want := []any{int64(1 << 53), "9007199254740993", "-9007199254740993", "x", nil, 2.5, []byte{1}}
	for i := range want {
		if g, w := got[i], want[i]; !equalArg(g, w) {
			t.Errorf("arg %d: %#v, want %#v", i, g, w)
		}
	}
}

func equalArg(a, b any) bool {
	if ab, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && string(ab) == string(bb)
	}
	return a == b
}
