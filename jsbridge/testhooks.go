//go:build larder_test_hooks

package jsbridge

// TestHooks reports whether this build has the fault-injection hooks of
// the browser tests (the request op "__fault"). Only a build with the tag
// larder_test_hooks has them (`make build-testhooks`); `make build` never
// does. larder.wasm reports it to the worker script (larder_features bit 2),
// which refuses every "__" op otherwise.
const TestHooks = true
