// inprocess.js — where larder.js finds the in-process host.
//
// In a context that cannot start a Worker (a service worker, an MV3
// extension background), importing larder-worker.js next to larder.js
// registers its Host here, and open() then runs larder.wasm in the same
// context (no global is involved: both import this module).

let host = null;

/** provideHost makes Host (larder-worker.js's) the in-process runtime. */
export function provideHost(Host) {
  host = Host;
}

/** inProcessHost is the registered Host class, or null. */
export function inProcessHost() {
  return host;
}
