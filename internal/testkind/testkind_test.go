package testkind

import "testing"

func TestSize(t *testing.T) {
	for _, c := range []struct{ full, quick int }{{500, 50}, {300, 30}, {200, 20}, {50, 10}, {5, 5}} {
		want := c.quick
		if Full {
			want = c.full
		}
		if got := Size(c.full); got != want {
			t.Errorf("Size(%d) = %d, want %d (Full %v)", c.full, got, want, Full)
		}
	}
}
