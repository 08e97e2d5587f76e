// Package examples holds the example apps (vite-react, built by Vite 8 and
// by Vite 7; webpack; esbuild; rollup), built by `make examples` from the
// packed @larderdb/larder tarball; its browser tests (-tags browser) serve
// each production build (and run Vite's dev servers) and drive them in
// headless Chromium.
package examples
