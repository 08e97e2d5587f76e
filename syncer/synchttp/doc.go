// Package synchttp carries sync over HTTP: HTTP, a syncer.Transport to the
// edge Worker's routes (syncer.RouteHello, RoutePush, RoutePull) on plain
// net/http, and HandleHTTP, which answers those routes for one verified
// user. It is apart from package syncer so that the browser's module,
// which syncs over the worker's own fetch (jsbridge/syncfetch_js.go), does
// not link net/http (about 1.3 MB of larder.wasm).
package synchttp
