//go:build !crash

package crashtest

// Full is false without -tags crash: plain `go test` (make test-native)
// runs a tenth of the crash trials, still every configuration and at
// random crash points, to stay fast; `make test` runs them all.
const Full = false
