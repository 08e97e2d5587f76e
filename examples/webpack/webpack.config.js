// The whole config: an entry and an output. webpack 5 emits the worker
// (new Worker(new URL(…, import.meta.url))) and larder.wasm (new URL(…,
// import.meta.url)) on its own.
import { fileURLToPath } from "node:url";

export default {
  entry: "./src/index.js",
  output: { path: fileURLToPath(new URL("./dist", import.meta.url)), clean: true },
};
