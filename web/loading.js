// The loading screen: a list of steps with their durations and a progress
// bar. A cold load downloads and compiles a 17 MB wasm and applies every
// migration, which takes from hundreds of milliseconds to seconds.
import { preload } from "./dist/larder.js";

const $ = (id) => document.getElementById(id);

export class Loading {
  #steps = new Map(); // key -> { li, start }
  #t0 = performance.now();

  show() {
    $("loading").hidden = false;
    $("loading").classList.remove("failed");
    $("loading-steps").replaceChildren();
    this.#steps.clear();
    this.#t0 = performance.now();
    this.#bar(0);
  }

  hide() {
    $("loading").hidden = true;
  }

  // step starts a step and finishes the previous ones.
  step(key, text) {
    for (const k of this.#steps.keys()) this.done(k);
    const li = document.createElement("li");
    li.textContent = text + "…";
    li.dataset.step = key;
    $("loading-steps").append(li);
    $("loading-step").textContent = text + "…";
    this.#steps.set(key, { li, start: performance.now(), text });
    this.#bar({ download: 0.05, open: 0.6, notes: 0.95 }[key] ?? 0.5);
  }

  done(key, text) {
    const s = this.#steps.get(key);
    if (!s || s.li.classList.contains("done")) return;
    s.li.classList.add("done");
    s.li.textContent = `${text ?? s.text} (${Math.round(performance.now() - s.start)} ms)`;
  }

  // prefetch follows the client's one fetch and compile of url (preload:
  // the promise open() then uses; the worker gets the compiled module),
  // with a byte counter.
  async prefetch(url) {
    let loaded = 0;
    await preload(url, {
      onProgress: (p) => {
        loaded = p.loaded;
        $("loading-step").textContent = `Downloading SQLite: ${(loaded / 1048576).toFixed(1)} MB…`;
        // With Content-Encoding the total is unknown (0): no fraction.
        if (p.total) this.#bar(0.05 + 0.5 * Math.min(1, loaded / p.total));
      },
    });
    this.done("download", `Downloaded and compiled SQLite, ${(loaded / 1048576).toFixed(1)} MB`);
  }

  fail(err) {
    $("loading").classList.add("failed");
    $("loading-step").textContent = `Could not open the database: ${err.message}` +
      (err.code ? ` (${err.code})` : "");
    const li = document.createElement("li");
    li.className = "error";
    li.textContent = String(err.stack ?? err);
    $("loading-steps").append(li);
  }

  #bar(v) {
    $("loading-progress").value = v;
  }
}
