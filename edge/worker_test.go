//go:build !js && workerd

package main

// These tests build the real Worker (GOOS=js GOARCH=wasm with syumai's JS
// glue), run it in workerd through miniflare (dev.mjs, from the pinned
// node_modules: `npm ci` runs here when they are missing), and talk HTTP to
// it. D1's contents are checked by opening miniflare's persisted database
// file with SQLite once the Worker has stopped.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

var (
	edgeDir  string // this package's directory
	buildDir string // Worker builds, one per bundle, for the whole run
	buildMu  sync.Mutex
	builds   = map[string]string{}
)

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	edgeDir = wd
	if _, err := os.Stat(filepath.Join(edgeDir, "node_modules", "miniflare")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir, cmd.Stdout, cmd.Stderr = edgeDir, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "edge: npm ci failed (Node.js and npm are needed to run workerd): %v\n", err)
			os.Exit(1)
		}
	}
	buildDir, err = os.MkdirTemp("", "larder-edge-build-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(code)
}

// bundleOf makes the bundle the Worker embeds from migration files, split
// by SQLite on a scratch database; prepare, if not nil, runs on that
// scratch database first.
func bundleOf(t testing.TB, files map[string]string, prepare string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	migs, err := migrations.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if prepare != "" {
		if err := conn.Exec(prepare); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlite.SplitStatements(context.Background(), conn, migs); err != nil {
		t.Fatal(err)
	}
	b, err := migrations.Bundle(migs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildWorker builds the Worker embedding bundle (through -overlay, so the
// package's own migrations.json is not touched) and returns the directory
// with worker.mjs, runtime.mjs, wasm_exec.js and app.wasm.
func buildWorker(t testing.TB, bundle []byte) string {
	t.Helper()
	return buildSyncWorker(t, bundle, nil)
}

// buildSyncWorker is buildWorker that also embeds syncTOML in place of the
// placeholder sync.toml (nil: the placeholder, no sync).
func buildSyncWorker(t testing.TB, bundle, syncTOML []byte) string {
	t.Helper()
	h := sha256.New()
	h.Write(bundle)
	if syncTOML != nil {
		h.Write([]byte("\x00sync.toml\x00"))
		h.Write(syncTOML)
	}
	key := hex.EncodeToString(h.Sum(nil)[:8])
	buildMu.Lock()
	defer buildMu.Unlock()
	if dir, ok := builds[key]; ok {
		return dir
	}
	dir := filepath.Join(buildDir, key)
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = edgeDir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	start := time.Now()
	run(nil, "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", dir)
	bundlePath := filepath.Join(dir, "migrations.json")
	if err := os.WriteFile(bundlePath, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{filepath.Join(edgeDir, "migrations.json"): bundlePath}
	if syncTOML != nil {
		syncPath := filepath.Join(dir, "sync.toml")
		if err := os.WriteFile(syncPath, syncTOML, 0o644); err != nil {
			t.Fatal(err)
		}
		replace[filepath.Join(edgeDir, "sync.toml")] = syncPath
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": replace})
	overlayPath := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(dir, "app.wasm")
	run([]string{"GOOS=js", "GOARCH=wasm"}, "build", "-trimpath", "-ldflags=-s -w", "-overlay", overlayPath, "-o", wasm, ".")
	if fi, err := os.Stat(wasm); err == nil {
		t.Logf("built the Worker in %v: app.wasm %d bytes", time.Since(start).Round(time.Millisecond), fi.Size())
	}
	builds[key] = dir
	return dir
}

// worker is a running `node dev.mjs`.
type worker struct {
	URL     string
	ReadyMS int
	// Token, when set, is sent as Authorization: Bearer by do.
	Token string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	logs  *lockedBuffer
	done  chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startWorker runs the Worker of build with its D1 and R2 under state.
func startWorker(t testing.TB, build, state string, isolates int, vars ...string) *worker {
	t.Helper()
	args := []string{"dev.mjs", "--build", build, "--state", state, "--port", "0",
		"--isolates", fmt.Sprint(isolates), "--exit-with-stdin"}
	for _, v := range vars {
		args = append(args, "--var", v)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = edgeDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workerd children go with it
	w := &worker{cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = w.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node dev.mjs: %v", err)
	}
	go func() { cmd.Wait(); close(w.done) }()
	t.Cleanup(func() { w.stop(t) })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first && strings.HasPrefix(sc.Text(), "{") {
				ready <- sc.Text()
				first = false
				continue
			}
			fmt.Fprintln(w.logs, sc.Text())
		}
		close(ready)
	}()
	select {
	case line, ok := <-ready:
		if !ok {
			t.Fatalf("dev.mjs exited before it was ready:\n%s", w.logs)
		}
		var r struct {
			URL     string `json:"url"`
			ReadyMS int    `json:"ready_ms"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("dev.mjs: %v: %q", err, line)
		}
		w.URL, w.ReadyMS = r.URL, r.ReadyMS
	case <-time.After(workerReadyWait):
		t.Fatalf("dev.mjs not ready after %v:\n%s", workerReadyWait, w.logs)
	}
	return w
}

// Bounds on waits for a condition, not expectations of speed: workerd
// starting (or flushing D1 on exit) takes seconds on an idle machine and
// minutes on a loaded 2-core one, and only a process that never gets there
// should fail a test.
const (
	workerReadyWait = 5 * time.Minute
	workerStopWait  = 2 * time.Minute
)

// stop ends the Worker: closing stdin makes dev.mjs dispose miniflare, which
// flushes D1 to disk; a Worker that does not exit is killed with its
// process group.
func (w *worker) stop(t testing.TB) {
	if w.stdin == nil {
		return
	}
	w.stdin.Close()
	w.stdin = nil
	select {
	case <-w.done:
	case <-time.After(workerStopWait):
		t.Errorf("dev.mjs did not exit within %v of stdin closing; killing it", workerStopWait)
		syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
		<-w.done
	}
	if t.Failed() {
		t.Logf("worker log:\n%s", w.logs)
	}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
	Took   time.Duration
}

func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not the JSON expected: %v\n%s", r.Status, err, r.Body)
	}
}

// do sends a request to the Worker with w.Token and the header name,
// value pairs hdr; host picks an isolate (see dev.mjs).
func (w *worker) do(t *testing.T, method, path, host string, body []byte, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, w.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	// An upload refused early (413) leaves its body unread: never reuse
	// that connection.
	req.Close = method == http.MethodPut
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b, Took: time.Since(start)}
}

// openD1 opens the D1 database miniflare persisted under state, read-only.
// Call it after the Worker has stopped.
func openD1(t *testing.T, state string) *sqlite3.Conn {
	t.Helper()
	var found []string
	filepath.WalkDir(filepath.Join(state, "d1"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sqlite") && !strings.Contains(filepath.Base(p), "metadata") {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("want one D1 database file under %s, found %q", state, found)
	}
	conn, err := sqlite3.OpenFlags(found[0], sqlite3.OPEN_READONLY)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func queryInts(t *testing.T, conn *sqlite3.Conn, q string) []int64 {
	t.Helper()
	stmt, _, err := conn.Prepare(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer stmt.Close()
	var out []int64
	for stmt.Step() {
		out = append(out, stmt.ColumnInt64(0))
	}
	if err := stmt.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func queryInt(t *testing.T, conn *sqlite3.Conn, q string) int64 {
	t.Helper()
	v := queryInts(t, conn, q)
	if len(v) != 1 {
		t.Fatalf("%s: %d rows, want 1", q, len(v))
	}
	return v[0]
}

// appMigrations are the migrations the tests run: 0002 inserts into a table
// without a key, so running it twice would show; 0003 has a trigger body
// with semicolons and is breaking.
var appMigrations = map[string]string{
	"0001_init.sql": `-- migrate:up
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE seeds (n INTEGER);
-- migrate:down
DROP TABLE seeds;
DROP TABLE items;
`,
	"0002_seed.sql": `INSERT INTO seeds (n) VALUES (1);
INSERT INTO items (name) VALUES ('a;b'), ('c');
`,
	"0003_log.sql": `-- migrate:up
-- migrate:breaking
CREATE TABLE log (msg TEXT);
CREATE TRIGGER items_log AFTER INSERT ON items BEGIN
  INSERT INTO log (msg) VALUES ('added ' || new.name || ';');
END;
-- migrate:down
DROP TRIGGER items_log;
DROP TABLE log;
`,
}

func with(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// migrateHeader parses "applied=N skipped=M".
func migrateHeader(t *testing.T, h string) (applied, skipped int) {
	t.Helper()
	if h == "" {
		return 0, 0
	}
	if _, err := fmt.Sscanf(h, "applied=%d skipped=%d", &applied, &skipped); err != nil {
		t.Fatalf("Larder-Migrate: %q: %v", h, err)
	}
	return applied, skipped
}

func TestWorkerMigratesOnceAcrossIsolatesAndRequests(t *testing.T) {
	bundle := bundleOf(t, appMigrations, "")
	build := buildWorker(t, bundle)
	state := t.TempDir()
	const isolates, requests = 4, 32
	w := startAuthedWorker(t, build, state, isolates)

	var wg sync.WaitGroup
	res := make([]response, requests)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = w.do(t, "GET", "/api/migrations", fmt.Sprintf("w%d.larder.test", i%isolates), nil)
		}()
	}
	wg.Wait()
	applied, skipped, checked := 0, 0, 0
	for i, r := range res {
		if r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		}
		if h := r.Header.Get("Larder-Migrate"); h != "" {
			a, s := migrateHeader(t, h)
			applied, skipped, checked = applied+a, skipped+s, checked+1
		}
		var st []map[string]any
		r.JSON(t, &st)
		if len(st) != 3 {
			t.Fatalf("request %d: %d status entries, want 3: %s", i, len(st), r.Body)
		}
		for _, s := range st {
			if s["state"] != "applied" || s["applied"] != true {
				t.Fatalf("request %d: not applied: %v", i, s)
			}
		}
	}
	if applied != 3 {
		t.Errorf("the requests applied %d migrations in all, want each of the 3 once", applied)
	}
	if checked < isolates {
		t.Errorf("%d requests ran the migration check, want at least one per isolate (%d)", checked, isolates)
	}
	t.Logf("%d concurrent requests on %d isolates: %d ran the check, %d migrations applied, %d found applied by another runner (batch refused on the _migrations key)",
		requests, isolates, checked, applied, skipped)

	// The shape of `larder migrate status --json`.
	var st []migrations.Status
	res[0].JSON(t, &st)
	var raw []map[string]any
	res[0].JSON(t, &raw)
	for _, k := range []string{"version", "name", "applied", "applied_at", "checksum", "state", "breaking"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("status entry has no %q: %v", k, raw[0])
		}
	}
	migs, _ := migrations.ParseBundle(bundle)
	for i, s := range st {
		if s.Version != migs[i].Version || s.Name != migs[i].Name || s.Checksum != migs[i].Checksum || s.Breaking != migs[i].Breaking {
			t.Errorf("status %d = %+v, want the bundle's %s", i, s, migs[i].Label())
		}
		if _, err := time.Parse(migrations.TimeFormat, s.AppliedAt); err != nil {
			t.Errorf("applied_at %q: %v", s.AppliedAt, err)
		}
	}

	// The same JSON as `larder migrate status --json` on a native database
	// with the same migrations, applied_at aside.
	dir := t.TempDir()
	for name, body := range appMigrations {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	db := filepath.Join(t.TempDir(), "native.db")
	cli := func(args ...string) []byte {
		cmd := exec.Command("go", append([]string{"run", "../cmd/larder"}, args...)...)
		cmd.Dir = edgeDir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("larder %v: %v\n%s", args, err, out)
		}
		return out
	}
	cli("migrate", "up", "--db", db, "--dir", dir)
	var native []map[string]any
	if err := json.Unmarshal(cli("migrate", "status", "--db", db, "--dir", dir, "--json"), &native); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][]map[string]any{native, raw} {
		for _, e := range l {
			delete(e, "applied_at")
		}
	}
	if !reflect.DeepEqual(native, raw) {
		t.Errorf("GET /api/migrations differs from larder migrate status --json:\n worker %v\n cli    %v", raw, native)
	}

	// Once an isolate is current it does not check again.
	for i := range isolates {
		r := w.do(t, "GET", "/api/migrations", fmt.Sprintf("w%d.larder.test", i), nil)
		if h := r.Header.Get("Larder-Migrate"); h != "" {
			t.Errorf("isolate %d checked migrations again: %q", i, h)
		}
	}
	w.stop(t)

	conn := openD1(t, state)
	if got := queryInts(t, conn, "SELECT version FROM _migrations ORDER BY version"); fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("_migrations versions %v, want [1 2 3]", got)
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM seeds"); n != 1 {
		t.Errorf("0002 ran %d times", n)
	}
	if n := queryInt(t, conn, "SELECT breaking FROM _migrations WHERE version = 3"); n != 1 {
		t.Errorf("breaking = %d for 0003, want 1", n)
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM _migrations WHERE duration_ms < 0 OR applied_at NOT LIKE '____-__-__T__:__:__.___Z'"); n != 0 {
		t.Errorf("%d _migrations rows with a bad applied_at or duration_ms", n)
	}

	// A new process is a cold isolate on a current database: one check,
	// nothing applied.
	w2 := startAuthedWorker(t, build, state, 1)
	cold := w2.do(t, "GET", "/api/backups", "", nil)
	warm := w2.do(t, "GET", "/api/backups", "", nil)
	if cold.Status != 200 || cold.Header.Get("Larder-Migrate") != "applied=0 skipped=0" {
		t.Errorf("first request on a current database: %d, Larder-Migrate %q", cold.Status, cold.Header.Get("Larder-Migrate"))
	}
	if warm.Header.Get("Larder-Migrate") != "" {
		t.Errorf("second request checked migrations again")
	}
	t.Logf("miniflare ready in %d ms; cold request (wasm compile, Go start, one D1 batch) %v; next request (fresh Go instance, no D1) %v",
		w2.ReadyMS, cold.Took.Round(time.Millisecond), warm.Took.Round(time.Millisecond))
}

func TestWorkerFailingMigrationLeavesPreviousVersion(t *testing.T) {
	state := t.TempDir()
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), state, 1)
	if r := w.do(t, "GET", "/api/migrations", "", nil); r.Status != 200 || r.Header.Get("Larder-Migrate") != "applied=3 skipped=0" {
		t.Fatalf("first deploy: %d %q %s", r.Status, r.Header.Get("Larder-Migrate"), r.Body)
	}
	w.stop(t)

	// 0004 depends on a table that existed where the bundle was made but
	// not on D1: its third statement (line 5) fails there.
	bad := with(appMigrations, map[string]string{"0004_bad.sql": `-- migrate:up
CREATE TABLE extra (x);
INSERT INTO items (name) VALUES ('from 4');
-- the next statement fails on D1
INSERT INTO legacy (x) VALUES (1);
CREATE INDEX extra_x ON extra (x);
`})
	w = startAuthedWorker(t, buildWorker(t, bundleOf(t, bad, "CREATE TABLE legacy (x)")), state, 1)
	r := w.do(t, "GET", "/api/migrations", "", nil)
	if r.Status != 200 {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	if got := r.Header.Get("Larder-Migration-Error"); got != "LARDER_MIGRATION_FAILED" {
		t.Errorf("Larder-Migration-Error = %q", got)
	}
	var st []migrations.Status
	r.JSON(t, &st)
	if len(st) != 4 || !st[2].Applied || st[3].Applied || st[3].State != migrations.StatePending {
		t.Errorf("status after the failure: %+v", st)
	}
	// Routes that need the schema refuse, naming the migration, statement and line.
	r = w.do(t, "GET", "/api/notes", "", nil)
	var e errorBody
	r.JSON(t, &e)
	if r.Status != http.StatusServiceUnavailable || e.Error.Code != "LARDER_MIGRATION_FAILED" ||
		e.Error.Migration == nil || e.Error.Migration.Version != 4 || e.Error.Migration.Name != "bad" {
		t.Fatalf("app route after a failed migration: %d %s", r.Status, r.Body)
	}
	for _, want := range []string{"0004_bad", "line 5", "no such table: legacy", "INSERT INTO legacy", "SQLITE_ERROR"} {
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("error message lacks %q: %s", want, e.Error.Message)
		}
	}
	t.Logf("error: %s", e.Error.Message)
	// It is not retried on every request: the isolate remembers the error
	// and retries after a backoff (1 s, then doubling). Of five quick
	// requests, not all retry (each would without the backoff), and every
	// one still gets the error, naming the migration.
	retried := 0
	for i := range 5 {
		r := w.do(t, "GET", "/api/notes", "", nil)
		var e errorBody
		r.JSON(t, &e)
		if r.Status != http.StatusServiceUnavailable || e.Error.Code != "LARDER_MIGRATION_FAILED" || e.Error.Migration == nil || e.Error.Migration.Version != 4 {
			t.Errorf("request %d while failing: %d %s", i, r.Status, r.Body)
		}
		if r.Header.Get("Larder-Migrate") != "" {
			retried++
		} else if r.Header.Get("Retry-After") == "" {
			t.Errorf("request %d answered from the remembered error without Retry-After", i)
		}
	}
	if retried == 5 {
		t.Errorf("every request retried the failing migration")
	}
	// And it is retried, not remembered as done, once the backoff ends.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := w.do(t, "GET", "/api/notes", "", nil)
		if r.Header.Get("Larder-Migrate") != "" {
			if r.Status != http.StatusServiceUnavailable {
				t.Errorf("retry: %d %s", r.Status, r.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failing migration was not retried within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("of 5 quick requests after the failure, %d retried the migration", retried)
	w.stop(t)

	conn := openD1(t, state)
	if v := queryInt(t, conn, "SELECT max(version) FROM _migrations"); v != 3 {
		t.Errorf("D1 at version %d after the failure, want 3", v)
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM _migrations WHERE version <= 0"); n != 0 {
		t.Errorf("%d marker rows left in _migrations", n)
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM sqlite_schema WHERE name IN ('extra', 'extra_x')"); n != 0 {
		t.Errorf("0004's first statement survived its failure")
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM items WHERE name = 'from 4'"); n != 0 {
		t.Errorf("0004's insert survived its failure")
	}
}
