//go:build crash

package crashtest

// Full is true under -tags crash (make test): [Trials] runs every trial.
const Full = true
