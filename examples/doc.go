// Package examples holds the example apps (vite-react, webpack), built by
// `make examples` from the packed @larderdb/larder tarball; its browser
// tests (-tags browser) serve each production build and drive it in
// headless Chromium.
package examples
