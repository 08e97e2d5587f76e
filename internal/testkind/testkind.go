// Package testkind sizes Larder's randomized test suites (crash injection,
// the planner's property test) by kind of run. Plain `go test` (make
// test-native) runs a tenth of each suite, still every configuration, so
// that the native tests stay fast; -tags full (make test) runs all of it.
// Each suite's own flag (-crash.trials, -pairs) overrides the size.
package testkind

// Size is the default size of a suite whose full size is full: full under
// -tags full ([Full]), else a tenth of it, at least 10 (and never more than
// full).
func Size(full int) int {
	if Full {
		return full
	}
	return min(full, max(full/10, 10))
}
