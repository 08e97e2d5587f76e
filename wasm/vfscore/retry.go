package vfscore

import (
	"context"
	"fmt"
	"time"

	"github.com/larderdb/larder/internal/jsutil"
)

// Retry calls fn until it succeeds, fails with an error retryable rejects,
// ctx ends, or timeout has passed since the first call; between calls it
// sleeps with exponential backoff from 20 ms to 500 ms. The last error is
// returned, wrapped with how long Retry kept trying when it gave up.
func Retry(ctx context.Context, timeout time.Duration, retryable func(error) bool, fn func() error) error {
	start := time.Now()
	delay := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) {
			return err
		}
		elapsed := time.Since(start)
		if elapsed+delay > timeout {
			return fmt.Errorf("gave up after %d attempts in %v: %w", attempt, elapsed.Round(time.Millisecond), err)
		}
		t := time.NewTimer(delay)
		done := jsutil.Blocking() // a timer: the browser's event loop must run
		select {
		case <-ctx.Done():
			done()
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
			done()
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}
