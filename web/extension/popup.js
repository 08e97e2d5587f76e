// The popup: save the active tab, list and search what was saved. All data
// lives in the background worker's Larder database.
const $ = (id) => document.getElementById(id);

async function call(type, args = {}) {
  const res = await chrome.runtime.sendMessage({ type, ...args });
  if (!res?.ok) {
    const err = new Error(res?.error ?? `no answer to ${type}`);
    err.code = res?.code;
    throw err;
  }
  return res;
}

async function render() {
  const { items } = await call("list", { search: $("search").value });
  $("items").replaceChildren(...items.map((it) => {
    const li = document.createElement("li");
    li.className = it.read_at ? "read" : "";
    li.dataset.id = it.id;
    const a = document.createElement("a");
    a.href = it.url;
    a.target = "_blank";
    const title = document.createElement("strong");
    title.textContent = it.title || it.url;
    const url = document.createElement("small");
    url.textContent = it.url;
    a.append(title, url);
    a.addEventListener("click", () => call("markRead", { id: it.id }));
    const del = document.createElement("button");
    del.className = "link";
    del.title = "Remove";
    del.textContent = "✕";
    del.addEventListener("click", async () => {
      await call("remove", { id: it.id });
      await render();
    });
    li.append(a, del);
    return li;
  }));
  $("status").textContent = items.length
    ? `${items.length} saved page${items.length === 1 ? "" : "s"}`
    : ($("search").value ? "Nothing matches." : "Nothing saved yet.");
}

async function saveActiveTab() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (!tab?.url) {
    $("status").textContent = "This tab has no URL to save.";
    return;
  }
  await call("save", { url: tab.url, title: tab.title });
  await render();
}

async function start() {
  $("save").addEventListener("click", () => saveActiveTab().catch(showError));
  $("search").addEventListener("input", () => render().catch(showError));
  const s = await call("status");
  $("footer").textContent = `SQLite on ${s.storage}, schema version ${s.version}`;
  await render();
  document.body.dataset.ready = "true";
}

function showError(err) {
  $("status").textContent = `Error: ${err.message}` + (err.code ? ` (${err.code})` : "");
}

start().catch(showError);
