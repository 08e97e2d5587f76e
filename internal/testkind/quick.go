//go:build !full

package testkind

// Full is false without -tags full: suites run a tenth of their size.
const Full = false
