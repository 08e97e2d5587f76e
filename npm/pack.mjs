// pack.mjs — `make package`: stages @larderdb/larder from the files `make
// build` wrote (the list comes from the Makefile) and the adapters here,
// then runs `npm pack` into the output directory.
//
//   node npm/pack.mjs --dist dist --out dist/npm larder.js larder-worker.js … larder.wasm
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
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
const built = args; // the files of `make build`, relative to dist
if (!built.includes("larder.js") || !built.includes("larder.wasm")) {
  throw new Error(`pack.mjs: the build's file list lacks larder.js or larder.wasm: ${built.join(" ")}`);
}

// The adapters: their modules and declarations, next to larder.js.
const ADAPTERS = ["drizzle", "kysely", "react"];
const ENTRY = ["larder.js", ...ADAPTERS.map((a) => `${a}.js`)];

const stage = join(out, "stage");
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const f of built) copyFileSync(join(dist, f), join(stage, f));
for (const a of ADAPTERS) for (const ext of [".js", ".d.ts"]) copyFileSync(join(here, a + ext), join(stage, a + ext));
copyFileSync(join(here, "README.md"), join(stage, "README.md"));

const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
delete pkg.devDependencies;
delete pkg.scripts;
pkg.version = version();
const files = readdirSync(stage).sort();
pkg.files = files.filter((f) => f !== "package.json" && f !== "README.md");
// Every module but the entry points runs for its effects (the worker
// script, wasm_exec.js which defines globalThis.Go): bundlers must keep them.
pkg.sideEffects = pkg.files.filter((f) => f.endsWith(".js") && !ENTRY.includes(f)).map((f) => `./${f}`);
writeFileSync(join(stage, "package.json"), JSON.stringify(pkg, null, 2) + "\n");

const name = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: stage, encoding: "utf8" }).trim().split("\n").pop();
// A name that does not change with the version, for the examples' package.json.
copyFileSync(join(out, name), join(out, "larderdb-larder.tgz"));
console.log(`${join(out, name)} (${pkg.version}), also ${join(out, "larderdb-larder.tgz")}: ${pkg.files.join(" ")}`);

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
