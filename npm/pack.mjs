// pack.mjs — `make package`: stages @larderdb/larder from what `make
// build` wrote to dist/ and the adapters here, then runs `npm pack` into
// the output directory.
//
//   node npm/pack.mjs --dist dist --out dist/npm larder.js larder-worker.js larder.d.ts
//
// The files named (the Makefile's JS_FILES) are the roots; every file they
// reference, transitively, comes along: static imports and re-exports
// (`from "./client/x.js"`, `import "./wasm_exec.js"`) and
// `new URL("./larder.wasm", import.meta.url)`. So the package holds what
// the build's modules load, however the client is split into files.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) throw new Error(`pack.mjs: ${name} is required`);
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const dist = resolve(opt("--dist"));
const out = resolve(opt("--out"));
const built = closure(args); // the files of `make build` the package holds, relative to dist
for (const f of ["larder.js", "larder-worker.js", "wasm_exec.js", "larder.wasm"]) {
  if (!built.includes(f)) throw new Error(`pack.mjs: ${f} is not among the files the build's modules reference: ${built.join(" ")}`);
}

// The adapters: their modules and declarations, next to larder.js.
const ADAPTERS = ["drizzle", "kysely", "react"];
const ENTRY = ["larder.js", ...ADAPTERS.map((a) => `${a}.js`)];

const stage = join(out, "stage");
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const f of built) {
  mkdirSync(dirname(join(stage, f)), { recursive: true });
  copyFileSync(join(dist, f), join(stage, f));
}
for (const a of ADAPTERS) for (const ext of [".js", ".d.ts"]) copyFileSync(join(here, a + ext), join(stage, a + ext));
copyFileSync(join(here, "README.md"), join(stage, "README.md"));

const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
delete pkg.devDependencies;
delete pkg.scripts;
pkg.version = version();
pkg.files = [...built, ...ADAPTERS.flatMap((a) => [`${a}.js`, `${a}.d.ts`])].sort();
// Every module but the entry points runs for its effects (the worker
// script, wasm_exec.js which defines globalThis.Go): bundlers must keep them.
pkg.sideEffects = pkg.files.filter((f) => f.endsWith(".js") && !ENTRY.includes(f)).map((f) => `./${f}`);
writeFileSync(join(stage, "package.json"), JSON.stringify(pkg, null, 2) + "\n");

const name = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: stage, encoding: "utf8" }).trim().split("\n").pop();
// A name that does not change with the version, for the examples' package.json.
copyFileSync(join(out, name), join(out, "larderdb-larder.tgz"));
console.log(`${join(out, name)} (${pkg.version}), also ${join(out, "larderdb-larder.tgz")}: ${pkg.files.join(" ")}`);

// closure returns roots and every file they reference, transitively
// (slash paths relative to dist), sorted.
function closure(roots) {
  const refs = [
    /^[ \t]*(?:import|export)\b[^;"'`]*?\bfrom\s*["'](\.\.?\/[^"']+)["']/gm, // import … from, export … from
    /^[ \t]*import\s*["'](\.\.?\/[^"']+)["']/gm, // import "./x.js"
    /\bimport\(\s*["'](\.\.?\/[^"']+)["']\s*\)/g, // import("./x.js")
    /\bnew\s+URL\s*\(\s*["'](\.\.?\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  const seen = new Set();
  const todo = [...roots];
  while (todo.length > 0) {
    const f = posix.normalize(todo.pop());
    if (seen.has(f)) continue;
    if (f.startsWith("..") || !existsSync(join(dist, f))) throw new Error(`pack.mjs: ${f} (referenced by the build's modules) is not in ${dist}: run make build`);
    seen.add(f);
    if (!f.endsWith(".js")) continue;
    const src = readFileSync(join(dist, f), "utf8");
    for (const re of refs) for (const m of src.matchAll(re)) todo.push(posix.join(posix.dirname(f), m[1]));
  }
  return [...seen].sort();
}

// version: the git tag (v1.2.3 → 1.2.3); past a tag 1.2.4-dev.N.gSHA; no
// tag: 0.0.0-dev.SHA. A dirty tree adds ".dirty".
function version() {
  const git = (...a) => execFileSync("git", a, { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  let dirty = "";
  try {
    if (git("status", "--porcelain", "--untracked-files=no") !== "") dirty = ".dirty";
  } catch {}
  let d;
  try {
    d = git("describe", "--tags", "--long", "--match", "v[0-9]*");
  } catch {
    let sha = "unknown";
    try {
      sha = git("rev-parse", "--short=12", "HEAD");
    } catch {}
    return `0.0.0-dev.${sha}${dirty}`;
  }
  const m = /^v(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+?)?-(\d+)-g([0-9a-f]+)$/.exec(d);
  if (!m) throw new Error(`pack.mjs: git describe says ${d}, not vMAJOR.MINOR.PATCH`);
  const [, ma, mi, pa, pre, n, sha] = m;
  if (n === "0") return `${ma}.${mi}.${pa}${pre ?? ""}${dirty && (pre ? ".dirty" : "-dirty")}`;
  return `${ma}.${mi}.${Number(pa) + 1}-dev.${n}.g${sha}${dirty}`;
}
