//go:build !js && browser

package jsbridge_test

import "testing"

// TestBrowserPersistOnlyWhenAsked: open() never asks for persistent
// storage on its own and never waits for the answer. navigator.storage's
// persist is replaced at the JS seam by one that counts its calls and,
// like Firefox's prompt, answers only when told to. On every engine.
func TestBrowserPersistOnlyWhenAsked(t *testing.T) {
	onEngines(t, newEnvOn, func(t *testing.T, e *env) {
		var got struct {
			Plain, Asked, After int
			PlainPersisted      any
			AskedPersisted      any
			Answer              any
			Later               any
		}
		e.run(e.tab, `
let calls = 0, answer;
// (Defined on the prototype and the instance: WebKit ignores a plain
// assignment to navigator.storage.persist.)
const fake = (k, f) => {
  for (const o of [StorageManager.prototype, navigator.storage]) Object.defineProperty(o, k, { value: f, configurable: true, writable: true });
};
fake("persist", () => { calls++; return new Promise((r) => (answer = r)); });
fake("persisted", () => Promise.resolve(false));
const plain = await L.open({ name: "p1", storage: "memory" });
const out = { Plain: calls, PlainPersisted: plain.persisted };
const asked = await L.open({ name: "p2", storage: "memory", persist: true });
out.Asked = calls;
out.AskedPersisted = asked.persisted; // the user has not answered yet
answer(true);
await new Promise((r) => setTimeout(r, 0));
out.Later = asked.persisted;
fake("persist", () => { calls++; return Promise.resolve(true); });
out.Answer = await plain.persist();
out.After = calls;
out.PlainPersisted = [out.PlainPersisted, plain.persisted];
return out;`, &got)
		if got.Plain != 0 {
			t.Errorf("open without persist: persist() called %d times, want 0", got.Plain)
		}
		if got.Asked != 1 {
			t.Errorf("open({persist: true}): persist() called %d times in all, want 1", got.Asked)
		}
		if got.AskedPersisted != false {
			t.Errorf("open({persist: true}) before the answer: persisted %v, want false (from persisted())", got.AskedPersisted)
		}
		if got.Later != true {
			t.Errorf("after the user's answer: persisted %v, want true", got.Later)
		}
		if got.Answer != true || got.After != 2 {
			t.Errorf("db.persist(): %v after %d calls, want true after 2", got.Answer, got.After)
		}
		if pp, _ := got.PlainPersisted.([]any); len(pp) != 2 || pp[0] != false || pp[1] != true {
			t.Errorf("plain handle persisted before/after db.persist(): %v, want [false true]", got.PlainPersisted)
		}
		e.noErrors(e.tab)
	})
}
