package idb

import (
	"flag"
	"testing"

	"github.com/larderdb/larder/internal/testkind"
	"github.com/larderdb/larder/wasm/vfscore/crashtest"
)

var (
	crashSeed   = flag.Uint64("crash.seed", 20261121, "first seed of the crash trials")
	crashTrials = flag.Int("crash.trials", testkind.Size(300), "crash trials per configuration (default: 300 with -tags full, a tenth without)")
)

// TestCrash kills the worker at random points of a random workload, in each
// journal configuration, and checks integrity and that exactly the
// committed transactions survive. cache_size=16 makes the big transactions
// spill out of SQLite's page cache, so both the batch-atomic path and the
// rollback-journal fallback are exercised.
func TestCrash(t *testing.T) {
	configs := map[string][]string{
		"recommended": {RecommendedPragmas, "PRAGMA cache_size=16"},
		"delete":      {"PRAGMA cache_size=16"},
	}
	for name, pragmas := range configs {
		t.Run(name, func(t *testing.T) {
			crashtest.Run(t, crashtest.Config{
				Trials:   *crashTrials,
				Seed:     *crashSeed,
				Pragmas:  pragmas,
				NewTrial: newStoreTrial,
			})
		})
	}
}
