//go:build !js && browser && workerd

package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/larderdb/larder/edge/auth"
	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/internal/site"
)

const devSecret = "demo-test-secret-at-least-32-bytes-long"

// startEdge runs the Worker that `make edge-build` left in edge/build (the
// demo's migrations and sync.toml: EDGE_MIGRATIONS=web/migrations, the
// default) in workerd with a fresh local D1, allowing origin; it returns
// the Worker's URL.
func startEdge(t *testing.T, origin string) string {
	t.Helper()
	dir := filepath.Join(browsertest.RepoRoot(t), "edge")
	for _, f := range []string{"build/worker.mjs", "build/app.wasm", "node_modules/.package-lock.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s is missing: run `make edge-deps edge-build` (the demo's migrations): %v", filepath.Join(dir, f), err)
		}
	}
	built, err := os.ReadFile(filepath.Join(dir, "build", "sync.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(filepath.Join("migrations", "sync.toml")); string(built) != string(want) {
		t.Fatalf("edge/build was made from other migrations than web/migrations (its sync.toml differs): run `make edge-build`")
	}
	cmd := osexec.Command("node", "dev.mjs", "--build", "build", "--state", t.TempDir(), "--port", "0", "--exit-with-stdin",
		"--var", "JWT_SECRET="+devSecret, "--var", "CORS_ORIGINS="+origin)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var r struct{ URL string }
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.URL != "" {
				ready <- r.URL
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case url := <-ready:
		return url
	case <-time.After(3 * step):
		t.Fatal("the Worker did not start in workerd")
		return ""
	}
}

// TestDemoSyncsBetweenProfiles is the demo as `make run-sync` serves it:
// the Worker in workerd with local D1, the demo allowed to call it, and
// two browser profiles of alice. A note written in one appears in the
// other by itself (no reload, no click on Sync now), an edit made in the
// second comes back to the first, and both indicators say synced.
func TestDemoSyncsBetweenProfiles(t *testing.T) {
	dist := browsertest.Dist(t)
	demo := &demoServer{h: http.NotFoundHandler()}
	demo.listen(t, "127.0.0.1:0")
	origin := strings.TrimSuffix(demo.URL, "/")
	edgeURL := startEdge(t, origin)

	csp := strings.Replace(site.DefaultCSP, "connect-src 'self'", "connect-src 'self' "+edgeURL, 1)
	h, err := site.New(site.Config{App: App(), Dist: os.DirFS(dist), Migrations: Migrations(), CSP: csp})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := auth.SignHS256([]byte(devSecret), auth.Claims{Subject: "alice",
		IssuedAt: auth.NumericDate(now.Unix()), ExpiresAt: auth.NumericDate(now.Add(time.Hour).Unix())})
	if err != nil {
		t.Fatal(err)
	}
	settings := fmt.Sprintf(`{"url":%q,"tokens":{"alice":%q}}`, edgeURL, tok)
	demo.deploy(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dist/sync-dev.json" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, settings)
			return
		}
		h.ServeHTTP(w, r)
	}))

	laptop, phone := browsertest.NewBrowser(t).NewTab(), browsertest.NewBrowser(t).NewTab()
	watchCrash(t, laptop)
	watchCrash(t, phone)
	state := `document.getElementById("sync-status").dataset.state`
	for name, tab := range map[string]*browsertest.Tab{"laptop": laptop, "phone": phone} {
		run(t, tab, "load "+name, chromedp.Navigate(demo.URL+"?user=alice"))
		// A first visit compiles the 20 MB wasm, with a Worker and another
		// browser on the same two cores: a longer hang guard than one step.
		waitLong(t, tab, name+" to open", `document.body.dataset.ready === "true" || document.getElementById("loading").classList.contains("failed")`)
		waitReady(t, tab, name)
		var has bool
		eval(t, tab, `"syncStatus" in larder.db`, &has)
		if !has {
			t.Fatalf("%s: dist/larder.js has no sync (db.syncStatus): rebuild with the sync client", name)
		}
		waitFor(t, tab, name+" synced", state+` === "synced"`)
	}

	newNote(t, laptop, "From the laptop", "home, Errands", "milk and café")
	waitFor(t, phone, "the laptop's note on the phone",
		`[...document.querySelectorAll("#notes .note-title")].some(e => e.textContent === "From the laptop")`)
	var tags string
	eval(t, phone, `[...document.querySelectorAll("#tags button")].map(b => b.textContent).join(", ")`, &tags)
	if tags != "All notes, Errands (1), home (1)" {
		t.Errorf("phone's tags: %q", tags)
	}

	newNote(t, phone, "From the phone", "", "a reply")
	waitFor(t, laptop, "the phone's note on the laptop", `document.querySelectorAll("#notes li").length === 2`)
	for name, tab := range map[string]*browsertest.Tab{"laptop": laptop, "phone": phone} {
		waitFor(t, tab, name+" synced with nothing to send", state+` === "synced" && larder.db.syncStatus.pending === 0`)
		var owners []string
		eval(t, tab, `larder.db.query("SELECT DISTINCT owner_id FROM notes").then(r => r.map(x => x.owner_id))`, &owners)
		if strings.Join(owners, ",") != "alice" {
			t.Errorf("%s: owners %v, want alice", name, owners)
		}
		noErrors(t, tab)
	}
}
