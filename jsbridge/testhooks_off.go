//go:build !larder_test_hooks

package jsbridge

// TestHooks reports whether this build has the fault-injection hooks of
// the browser tests; see testhooks.go. Production builds have none.
const TestHooks = false
