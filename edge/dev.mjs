// Runs the built Worker (build/worker.mjs + app.wasm, see `make edge-build`)
// locally in workerd through miniflare, with a local D1 database bound as DB
// and a local R2 bucket bound as BACKUPS, persisted under --state. No
// network is used. Prints one JSON line when ready:
//   {"url":"http://127.0.0.1:8787","ready_ms":123}
// then serves until SIGINT/SIGTERM (or stdin closes, with --exit-with-stdin).
//
//   node dev.mjs [--build build] [--state .state] [--port 8787]
//                [--isolates N] [--var NAME=VALUE ...] [--exit-with-stdin]
//
// --isolates N runs N copies of the Worker, each in its own isolate, on one
// D1 database and one bucket (requests pick one with the Host header
// w0.larder.test ... wN-1.larder.test; others go to w0): the way several
// Cloudflare locations share one database.
import { Miniflare, Log, LogLevel } from "miniflare";
import path from "node:path";
import process from "node:process";

const args = { build: "build", state: ".state", port: 8787, isolates: 1, vars: {}, watchStdin: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i], v = argv[i + 1];
  switch (a) {
    case "--build": args.build = v; i++; break;
    case "--state": args.state = v; i++; break;
    case "--port": args.port = Number(v); i++; break;
    case "--isolates": args.isolates = Number(v); i++; break;
    case "--exit-with-stdin": args.watchStdin = true; break;
    case "--var": {
      const eq = v.indexOf("=");
      args.vars[v.slice(0, eq)] = v.slice(eq + 1);
      i++;
      break;
    }
    default:
      console.error(`dev.mjs: unknown argument ${a}`);
      process.exit(2);
  }
}

const build = path.resolve(args.build);
const state = path.resolve(args.state);
const t0 = performance.now();
const worker = (name, i) => ({
  name,
  modules: true,
  scriptPath: path.join(build, "worker.mjs"),
  modulesRoot: build,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: "2025-09-01",
  d1Databases: { DB: "larder-local-d1" },
  r2Buckets: { BACKUPS: "larder-local-backups" },
  bindings: args.vars,
  routes: i === 0 ? undefined : [`${name}.larder.test/*`],
});
const workers = [];
for (let i = 0; i < args.isolates; i++) workers.push(worker(`w${i}`, i));

const mf = new Miniflare({
  workers,
  host: "127.0.0.1",
  port: args.port,
  d1Persist: path.join(state, "d1"),
  r2Persist: path.join(state, "r2"),
  log: new Log(LogLevel.INFO),
  cf: false, // no fetch of the Request.cf placeholder from the network
});
const url = await mf.ready;
console.log(JSON.stringify({ url: url.origin, ready_ms: Math.round(performance.now() - t0) }));

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
if (args.watchStdin) {
  // The Go test holds stdin open: if it dies, so does this server.
  process.stdin.on("end", stop);
  process.stdin.resume();
}
