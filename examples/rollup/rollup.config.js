// Rollup resolves npm packages only with @rollup/plugin-node-resolve, and
// leaves new URL("./…", import.meta.url) as it is: so the package's worker
// is a second input, written to dist/larder-worker.js next to the app's
// dist/index.js where larder.js looks for it. Rollup cannot emit
// larder.wasm without a plugin: package.json's build copies it.
import { nodeResolve } from "@rollup/plugin-node-resolve";

export default {
  input: { index: "src/index.js", "larder-worker": "@larderdb/larder/larder-worker.js" },
  output: { dir: "dist", format: "es" },
  plugins: [nodeResolve({ browser: true })],
};
