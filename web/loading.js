// The loading screen: a list of steps with their durations and a progress
// bar. A cold load downloads and compiles a 17 MB wasm and applies every
// migration, which takes from hundreds of milliseconds to seconds.
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

  // prefetch downloads url with a byte counter, so that the worker's own
  // fetch of it right after is a cache revalidation (304) or a service
  // worker cache hit instead of a second download.
  async prefetch(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText}`);
    // With Content-Encoding, Content-Length counts compressed bytes while the
    // stream yields decoded ones: the fraction is then only an estimate.
    const total = Number(res.headers.get("Content-Length")) || 0;
    const encoded = res.headers.get("Content-Encoding");
    const reader = res.body.getReader();
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.byteLength;
      const mb = (loaded / 1048576).toFixed(1);
      $("loading-step").textContent = `Downloading SQLite: ${mb} MB…`;
      if (total && !encoded) this.#bar(0.05 + 0.5 * Math.min(1, loaded / total));
    }
    this.done("download", `Downloaded SQLite, ${(loaded / 1048576).toFixed(1)} MB`);
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
