//go:build larder_test_hooks

package syncer

// SetStallHook sets the function a round calls at its crash points: "ack"
// inside Ack's transaction, after the acknowledged changes left the outbox
// and before it commits, and "apply" inside Apply's transaction, after
// the page's first row. Only test-hooks builds (-tags larder_test_hooks)
// have it: the browser kill tests stall a round there and kill its worker.
func SetStallHook(f func(point string)) { stallHook = f }
