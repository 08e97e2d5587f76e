package opfs

import (
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/larderdb/larder/internal/testkind"
	"github.com/larderdb/larder/wasm/vfscore/crashtest"
)

var (
	crashSeed   = flag.Uint64("crash.seed", 20261121, "first seed of the crash trials")
	crashTrials = flag.Int("crash.trials", testkind.Size(200), "crash trials per configuration (default: 200 with -tags full, a tenth without)")
)

func newTrial(rng *rand.Rand, crashAt int) crashtest.Trial {
	return crashtest.NewDiskTrial(rng, crashAt, newVFS)
}

// TestCrash kills the worker at random points of a random workload, in each
// journal configuration the VFS supports, and checks integrity and that
// exactly the committed transactions survive.
func TestCrash(t *testing.T) {
	configs := map[string][]string{
		// What the Larder runtime uses (RecommendedPragmas), with frequent
		// checkpoints so that crashes hit them too.
		"wal-exclusive": {RecommendedPragmas, "PRAGMA wal_autocheckpoint=8", "PRAGMA cache_size=16"},
		// SQLite's defaults, for Go users who set nothing.
		"delete": {"PRAGMA cache_size=16"},
		// A rollback journal truncated per commit, exclusive locking.
		"truncate-exclusive": {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA journal_mode=TRUNCATE", "PRAGMA cache_size=16"},
	}
	for name, pragmas := range configs {
		t.Run(name, func(t *testing.T) {
			crashtest.Run(t, crashtest.Config{
				Trials:   *crashTrials,
				Seed:     *crashSeed,
				Pragmas:  pragmas,
				NewTrial: newTrial,
			})
		})
	}
}
