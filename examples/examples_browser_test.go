//go:build !js && browser

package examples

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/larderdb/larder/internal/browsertest"
)

// step bounds one step of a test: a guard against a hang, never an
// assertion about speed.
const step = 90 * time.Second

// built returns the directory of example name's production build, failing
// with what to run when it is missing.
func built(t *testing.T, name, file string) string {
	t.Helper()
	dir := filepath.Join(browsertest.RepoRoot(t), "examples", name)
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		t.Fatalf("examples/%s is not built (%v): run `make examples` (make test does)", name, err)
	}
	return dir
}

func eval(t *testing.T, tab *browsertest.Tab, expr string, out any) {
	t.Helper()
	if err := tab.EvalTimeout(step, expr, out); err != nil {
		t.Fatalf("%s: %v\nconsole:\n%s", expr, err, strings.Join(tab.Logs(), "\n"))
	}
}

// waitFor polls a JS condition until it holds (or the step deadline).
func waitFor(t *testing.T, tab *browsertest.Tab, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), step)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step)))
	if err != nil {
		var page, errAttr string
		tab.EvalTimeout(5*time.Second, `document.body.innerText.slice(0, 800)`, &page)
		tab.EvalTimeout(5*time.Second, `document.body.dataset.error || ""`, &errAttr)
		t.Fatalf("waiting for %s: %v\npage error: %s\npage:\n%s\nconsole:\n%s", what, err, errAttr, page, strings.Join(tab.Logs(), "\n"))
	}
}

func noErrors(t *testing.T, tabs ...*browsertest.Tab) {
	t.Helper()
	for _, tab := range tabs {
		if errs := tab.Errors(); len(errs) > 0 {
			t.Errorf("page errors:\n%s", strings.Join(errs, "\n"))
		}
	}
}

// ready loads url in tab and waits until the app has opened its database.
func ready(t *testing.T, tab *browsertest.Tab, url string) {
	t.Helper()
	if err := tab.Navigate(url); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, "the app to open its database", `document.body.dataset.ready === "true" || !!document.body.dataset.error`)
	var errAttr string
	eval(t, tab, `document.body.dataset.error || ""`, &errAttr)
	if errAttr != "" {
		t.Fatalf("the app failed to start: %s\nconsole:\n%s", errAttr, strings.Join(tab.Logs(), "\n"))
	}
}

// listed is the JS list of the note bodies the React list shows.
const listed = `[...document.querySelectorAll("#notes li")].map((li) => li.textContent)`

func bodies(t *testing.T, tab *browsertest.Tab) []string {
	t.Helper()
	var got []string
	eval(t, tab, listed, &got)
	return got
}

func waitListed(t *testing.T, tab *browsertest.Tab, body string) {
	t.Helper()
	waitFor(t, tab, fmt.Sprintf("%q in the list", body), fmt.Sprintf(`%s.includes(%q)`, listed, body))
}

// TestViteReactExample serves the production builds of examples/vite-react
// by Vite 8 and by Vite 7 (examples/vite-react-vite7), no plugin, no
// config, and checks each in two tabs: the database opens and migrates,
// writes through Drizzle and Kysely show up in the useQuery list (which
// stops watching when unmounted and keeps one watch across re-renders), a
// write from the other tab shows up too, Drizzle sees both `id` columns of
// a join, RETURNING, batch, relational queries, savepoints, Kysely's
// introspection and transactions work, a Drizzle transaction does not take
// another tab's write down with its rollback, a raw BEGIN is refused, and
// the data survives a reload.
func TestViteReactExample(t *testing.T) {
	for _, c := range []struct{ name, example string }{{"vite8", "vite-react"}, {"vite7", "vite-react-vite7"}} {
		t.Run(c.name, func(t *testing.T) {
			dir := built(t, c.example, "dist/index.html")
			srv := browsertest.Serve(t)
			srv.Mount("/", filepath.Join(dir, "dist"))
			checkViteReact(t, srv.URL+"/")
		})
	}
}

// TestViteDevServer starts `vite` (Vite 8, the dev server, no config: no
// optimizeDeps) on examples/vite-react and checks that the app opens its
// database and lists a write.
func TestViteDevServer(t *testing.T) {
	dir := built(t, "vite-react", "node_modules/.bin/vite")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var out syncBuffer
	cmd := exec.Command(filepath.Join(dir, "node_modules", ".bin", "vite"), "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--strictPort")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // vite and what it started
		cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	for {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("vite dev server did not answer on %s:\n%s", url, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	b := browsertest.NewBrowser(t)
	a := b.NewTab()
	ready(t, a, url)
	eval(t, a, `larderExample.addKysely("from the dev server")`, nil)
	waitListed(t, a, "from the dev server")
	noErrors(t, a)
}

// syncBuffer is the output of a process, read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func checkViteReact(t *testing.T, url string) {
	b := browsertest.NewBrowser(t)
	a := b.NewTab()
	ready(t, a, url)

	var version int
	eval(t, a, `larderExample.version`, &version)
	if version != 2 {
		t.Fatalf("db.version = %d after open, want 2 (both migrations applied)", version)
	}
	waitFor(t, a, "the empty list", `document.getElementById("count")?.textContent === "0"`)

	var id1, id2 int
	eval(t, a, `larderExample.addDrizzle("first via drizzle")`, &id1)
	eval(t, a, `larderExample.addKysely("first via kysely")`, &id2)
	if id1 != 1 || id2 != 2 {
		t.Errorf("RETURNING ids: drizzle %d, kysely %d; want 1, 2", id1, id2)
	}
	waitListed(t, a, "first via drizzle")
	waitListed(t, a, "first via kysely")

	// useQuery: new but equal params on re-render keep the one watch;
	// unmounting stops it; mounting again starts one.
	type watches struct{ Started, Active int }
	var w watches
	eval(t, a, `larderExample.watches`, &w)
	if w != (watches{1, 1}) {
		t.Errorf("watches after the first render = %+v, want 1 started, 1 active", w)
	}
	eval(t, a, `for (let i = 0; i < 3; i++) document.getElementById("rerender").click()`, nil)
	waitFor(t, a, "three re-renders", `document.getElementById("rerender").textContent === "re-render (3)"`)
	eval(t, a, `larderExample.watches`, &w)
	if w != (watches{1, 1}) {
		t.Errorf("watches after 3 re-renders = %+v, want still 1 started, 1 active", w)
	}
	eval(t, a, `document.getElementById("toggle").click()`, nil)
	waitFor(t, a, "the list to unmount", `!document.getElementById("notes")`)
	waitFor(t, a, "the watch to stop", `larderExample.watches.active === 0`)
	eval(t, a, `document.getElementById("toggle").click()`, nil)
	waitListed(t, a, "first via kysely")
	eval(t, a, `larderExample.watches`, &w)
	if w != (watches{2, 1}) {
		t.Errorf("watches after unmount and mount = %+v, want 2 started, 1 active", w)
	}

	// A join whose two tables both have an id column: note.id 1 and 2,
	// author.id 7. Objects keyed by column name would lose one of them.
	var joined []struct {
		NoteID   int    `json:"noteId"`
		AuthorID int    `json:"authorId"`
		Body     string `json:"body"`
		Name     string `json:"name"`
	}
	eval(t, a, `larderExample.joined()`, &joined)
	if len(joined) != 2 || joined[0].NoteID != 1 || joined[1].NoteID != 2 || joined[0].AuthorID != 7 || joined[1].AuthorID != 7 || joined[0].Name != "Ada" || joined[1].Body != "first via kysely" {
		t.Errorf("drizzle join = %+v, want notes 1 and 2, each with author 7 (Ada)", joined)
	}
	var full []struct {
		Note   struct{ ID int }
		Author struct {
			ID   int
			Name string
		}
	}
	eval(t, a, `larderExample.joinedFull()`, &full)
	if len(full) != 2 || full[1].Note.ID != 2 || full[1].Author.ID != 7 || full[1].Author.Name != "Ada" {
		t.Errorf("drizzle select() join = %+v, want note 2 with author 7", full)
	}

	var rel []struct {
		ID    int
		Notes []struct{ Body string }
	}
	eval(t, a, `larderExample.relational()`, &rel)
	if len(rel) != 1 || rel[0].ID != 7 || len(rel[0].Notes) != 2 {
		t.Errorf("drizzle relational query = %+v, want author 7 with 2 notes", rel)
	}

	var batch [][]struct{ ID int }
	eval(t, a, `larderExample.batch("batch a", "batch b")`, &batch)
	if len(batch) != 2 || len(batch[0]) != 1 || batch[0][0].ID != 3 || batch[1][0].ID != 4 {
		t.Errorf("drizzle batch RETURNING = %+v, want [[{3}] [{4}]]", batch)
	}

	var tables []string
	eval(t, a, `larderExample.tables()`, &tables)
	if !slices.Contains(tables, "note") || !slices.Contains(tables, "author") {
		t.Errorf("kysely introspection tables = %v, want author and note among them", tables)
	}

	var outcome string
	eval(t, a, `larderExample.kyselyTx("kysely tx kept", false)`, &outcome)
	if outcome != "committed" {
		t.Errorf("kysely transaction: %q, want committed", outcome)
	}
	eval(t, a, `larderExample.kyselyTx("kysely tx dropped", true)`, &outcome)
	if outcome != "kysely rollback" {
		t.Errorf("failing kysely transaction: %q, want its error", outcome)
	}
	waitListed(t, a, "kysely tx kept")

	eval(t, a, `larderExample.drizzleNested("drizzle outer kept", "drizzle savepoint dropped")`, nil)
	eval(t, a, `larderExample.kyselySavepoint("kysely outer kept", "kysely savepoint dropped")`, nil)
	waitListed(t, a, "drizzle outer kept")
	waitListed(t, a, "kysely outer kept")

	// A second tab writes: the first tab's useQuery list shows it.
	bt := b.NewTab()
	ready(t, bt, url)
	eval(t, bt, `larderExample.addKysely("from the second tab")`, nil)
	waitListed(t, a, "from the second tab")

	// Drizzle's transaction runs in Larder's db.transaction: the other
	// tab's write, made while it is open, waits for it, then commits and
	// stays although the transaction rolls back.
	eval(t, a, `window.__held = larderExample.holdDrizzleTx("rolled back"), true`, nil)
	waitFor(t, a, "the Drizzle transaction to be open", `larderExample.inTx()`)
	eval(t, bt, `window.__during = larderExample.addDrizzle("written during the transaction"), true`, nil)
	eval(t, a, `larderExample.release()`, nil)
	eval(t, a, `window.__held`, &outcome)
	if outcome != "rolled back" {
		t.Errorf("held Drizzle transaction ended with %q, want \"rolled back\" (TransactionRollbackError)", outcome)
	}
	var duringID int
	eval(t, bt, `window.__during`, &duringID)
	waitListed(t, a, "written during the transaction")

	// A raw BEGIN is refused (naming db.transaction) while the other tab's
	// writes keep committing.
	var refused struct{ Code, Message string }
	eval(t, a, `larderExample.rawBegin()`, &refused)
	if refused.Code != "LARDER_INVALID_ARGUMENT" || !strings.Contains(refused.Message, "db.transaction") {
		t.Errorf("db.exec(\"BEGIN\") = %+v, want LARDER_INVALID_ARGUMENT naming db.transaction", refused)
	}
	eval(t, bt, `larderExample.addKysely("after the refused BEGIN")`, nil)
	waitListed(t, a, "after the refused BEGIN")

	want := []string{"first via drizzle", "first via kysely", "batch a", "batch b", "kysely tx kept",
		"drizzle outer kept", "kysely outer kept", "from the second tab", "written during the transaction", "after the refused BEGIN"}
	if got := bodies(t, a); !slices.Equal(got, want) {
		t.Errorf("list = %q\nwant   %q", got, want)
	}

	// Reload: the data is still there.
	bt.Close()
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "the app after reload", `document.body.dataset.ready === "true"`)
	waitFor(t, a, "the list after reload", fmt.Sprintf(`document.getElementById("count")?.textContent === "%d"`, len(want)))
	if got := bodies(t, a); !slices.Equal(got, want) {
		t.Errorf("after reload list = %q\nwant %q", got, want)
	}
	noErrors(t, a)
}

// TestWebpackExample serves examples/webpack (webpack 5, an entry and an
// output, nothing else) and checks that it opens, migrates, writes with
// RETURNING, shows a watched list, and keeps the data across a reload.
func TestWebpackExample(t *testing.T) {
	dir := built(t, "webpack", "dist/main.js")
	srv := browsertest.Serve(t)
	srv.Mount("/", dir)
	b := browsertest.NewBrowser(t)
	tab := b.NewTab()
	ready(t, tab, srv.URL+"/index.html")
	var version int
	eval(t, tab, `larderExample.version`, &version)
	if version != 1 {
		t.Fatalf("db.version = %d, want 1", version)
	}
	var id int
	eval(t, tab, `larderExample.add("from webpack")`, &id)
	if id != 1 {
		t.Errorf("RETURNING id = %d, want 1", id)
	}
	waitListed(t, tab, "from webpack")
	if err := tab.Reload(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, "the app after reload", `document.body.dataset.ready === "true"`)
	waitListed(t, tab, "from webpack")
	waitFor(t, tab, "one row after reload", `document.body.dataset.count === "1"`)
	noErrors(t, tab)
}
