// Fakes of the browser's Web Locks and BroadcastChannel for the Node tests
// of the owner protocol: several "contexts" (tabs) in one process, each
// with its own clientId, that can be killed (their locks freed at once,
// their channels closed, as when a tab closes or its worker dies).

// LockManager is navigator.locks for every context of an origin.
export class LockManager {
  constructor() {
    this.held = new Map(); // name → {clientId, release}
    this.queue = new Map(); // name → [{clientId, grant}]
  }

  // forContext is the navigator.locks of one context.
  forContext(clientId) {
    const m = this;
    return {
      request(name, opts, cb) {
        if (typeof opts === "function") [opts, cb] = [{}, opts];
        return m.request(clientId, name, opts || {}, cb);
      },
      query: async () => ({
        held: [...m.held].map(([name, l]) => ({ name, clientId: l.clientId, mode: "exclusive" })),
        pending: [...m.queue].flatMap(([name, q]) => q.map((w) => ({ name, clientId: w.clientId }))),
      }),
    };
  }

  request(clientId, name, opts, cb) {
    if (this.dead?.has(clientId)) return new Promise(() => {});
    if (this.held.has(name)) {
      if (opts.ifAvailable) return Promise.resolve().then(() => cb(null));
      return new Promise((resolve, reject) => {
        const q = this.queue.get(name) || [];
        q.push({ clientId, grant: () => this.grant(clientId, name, cb, resolve, reject) });
        this.queue.set(name, q);
      });
    }
    return new Promise((resolve, reject) => this.grant(clientId, name, cb, resolve, reject));
  }

  grant(clientId, name, cb, resolve, reject) {
    const lock = { name, mode: "exclusive" };
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (this.held.get(name)?.release === release) this.held.delete(name);
      this.next(name);
    };
    this.held.set(name, { clientId, release });
    Promise.resolve()
      .then(() => cb(lock))
      .then(
        (v) => {
          release();
          resolve(v);
        },
        (e) => {
          release();
          reject(e);
        },
      );
  }

  next(name) {
    const q = this.queue.get(name);
    if (!q || q.length === 0 || this.held.has(name)) return;
    const w = q.shift();
    if (q.length === 0) this.queue.delete(name);
    w.grant();
  }

  // kill frees every lock of clientId and drops its queued requests.
  kill(clientId) {
    (this.dead ||= new Set()).add(clientId);
    for (const [name, q] of this.queue) this.queue.set(name, q.filter((w) => w.clientId !== clientId));
    for (const [name, l] of [...this.held]) if (l.clientId === clientId) l.release();
  }
}

// Bus carries the BroadcastChannel messages of every context, each
// delivered later (a task), cloned, to every other open channel of the
// same name.
export class Bus {
  constructor() {
    this.channels = new Set();
    this.posted = []; // every message, for assertions: {from: clientId, name, data}
  }

  // forContext is the BroadcastChannel class of one context.
  forContext(clientId) {
    const bus = this;
    return class FakeChannel {
      constructor(name) {
        this.name = name;
        this.clientId = clientId;
        this.onmessage = null;
        this.closed = false;
        bus.channels.add(this);
      }
      postMessage(data) {
        if (this.closed) throw new Error("InvalidStateError: channel closed");
        bus.posted.push({ from: clientId, name: this.name, data: structuredClone(data) });
        for (const c of bus.channels) {
          if (c === this || c.name !== this.name) continue;
          const copy = structuredClone(data);
          setTimeout(() => !c.closed && c.onmessage && c.onmessage({ data: copy }), 0);
        }
      }
      close() {
        this.closed = true;
        bus.channels.delete(this);
      }
    };
  }

  kill(clientId) {
    for (const c of [...this.channels]) if (c.clientId === clientId) c.close();
  }
}

// until resolves once cond() is true, polling; it rejects after ms.
export async function until(cond, what, ms = 10000) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
