//go:build full

package testkind

// Full is true under -tags full: suites run at their full size.
const Full = true
