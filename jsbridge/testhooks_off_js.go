//go:build js && !larder_test_hooks

package jsbridge

import "github.com/larderdb/larder/internal/jsutil"

// testHook: production builds have no fault-injection ops (see
// testhooks_js.go); "__fault" is an unknown op like any other.
func testHook(string, jsutil.Value) (any, bool) { return nil, false }
