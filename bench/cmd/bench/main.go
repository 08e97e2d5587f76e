//go:build !js

// Command bench measures Larder against peer browser SQLite stacks
// (@sqlite.org/sqlite-wasm, wa-sqlite, PGlite) in headless Chromium and writes
// bench/RESULTS.md, bench/results.png and bench/results.json.
//
// It is run by `make bench` from the repository root, after `make build` and
// `npm ci` under bench/. Every figure is the median of -runs fresh page loads;
// see bench/README.md for the workloads.
//
//	go run ./bench/cmd/bench [-runs 5] [-only REGEXP] [-report-only]
//
// -only selects cells by "workload/system/backend", e.g. -only 'insert-1k/',
// -only '/larder/opfs$' or -only 'select-10k/(larder|wa-sqlite)/'. The cells it
// measures replace those in bench/results.json; the others are kept, and the
// report is written from the merged file.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("runs", 3, "fresh page loads per figure (the median is reported)")
	only := flag.String("only", "", `regexp over "workload/system/backend" selecting what to (re)measure`)
	flag.StringVar(&skipFlag, "skip", "", `regexp over "workload/system/backend" of figures not to measure`)
	root := flag.String("root", ".", "repository root (holds dist/ and bench/)")
	chromiumPath := flag.String("chromium", "", "Chromium binary (default: $LARDER_CHROMIUM, then /usr/bin/chromium, as the browser tests)")
	timeout := flag.Duration("timeout", 5*time.Minute, "limit for one page load")
	reportOnly := flag.Bool("report-only", false, "rewrite RESULTS.md and results.png from results.json without measuring")
	out := flag.String("out", "", "directory for RESULTS.md, results.png and results.json (default ROOT/bench)")
	flag.DurationVar(&primeHold, "prime", primeHold, "before a warm-cache workload, caches cleared, one untimed first visit per system whose tab stays open this long (V8 writes its wasm code cache then); 0: no priming")
	flag.DurationVar(&primeHoldLarder, "prime-larder", primeHoldLarder, "the same for Larder, whose first visit also runs its warm-up (~3 s) and whose largest functions take seconds to optimise")
	flag.DurationVar(&cellBudget, "cell-budget", cellBudget, "stop adding runs to a figure once its runs took this long and it has 3")
	flag.StringVar(&enginesFlag, "engines", enginesFlag, "browser engines to measure on, comma-separated (chromium, firefox, webkit)")
	flag.BoolVar(&allFlag, "all", false, "measure every workload (without it and without -only: the core workloads only; see bench/README.md)")
	flag.BoolVar(&primeWarmup, "prime-warmup", true, "Larder's priming first visit runs its warm-up (false: measure a returning visit whose first visit had none)")
	flag.DurationVar(&demoHold, "demo-hold", demoHold, "how long the demo's first visit stays open before the reload (Larder's warm-up and V8's code cache run then)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *only == "" && !allFlag {
		coreOnly = true
	}
	if err := run(*root, *out, *chromiumPath, *only, *runs, *timeout, *reportOnly); err != nil {
		log.Fatal(err)
	}
}

// cellBudget bounds the slowest figures (PGlite on IndexedDB syncs its data
// directory after every statement): after 3 runs, a figure whose runs took
// longer than this in total gets no more runs. RESULTS.md shows the count.
var cellBudget = 5 * time.Minute

// primeWarmup: Larder's priming first visit runs its warm-up (-prime-warmup).
var primeWarmup = true

// primeHold is how long the priming run of a warm-cache workload keeps its
// tab open (see measureAll); primeHoldLarder the same for Larder.
var (
	primeHold       = 4 * time.Second
	primeHoldLarder = 14 * time.Second
)

var (
	skipFlag    string
	skipRe      *regexp.Regexp
	enginesFlag = "chromium,firefox,webkit"
	allFlag     bool
	coreOnly    bool // no -only and no -all: the core workloads
)

func run(root, out, chromiumPath, only string, runs int, timeout time.Duration, reportOnly bool) error {
	benchDir := out
	if benchDir == "" {
		benchDir = filepath.Join(root, "bench")
	}
	if err := os.MkdirAll(benchDir, 0o755); err != nil {
		return fmt.Errorf("bench: -out: %w", err)
	}
	jsonPath := filepath.Join(benchDir, "results.json")
	res, err := loadResults(jsonPath)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", jsonPath, err)
	}
	sel, err := regexp.Compile(only)
	if err != nil {
		return fmt.Errorf("bench: -only: %w", err)
	}
	if skipFlag != "" {
		if skipRe, err = regexp.Compile(skipFlag); err != nil {
			return fmt.Errorf("bench: -skip: %w", err)
		}
	}
	if runs < 1 {
		return fmt.Errorf("bench: -runs must be at least 1")
	}

	if !reportOnly {
		rev := larderRevision(root)
		browsers := res.Meta.Browsers
		if browsers == nil {
			browsers = map[string]string{}
		}
		// Notes about engines this run does not measure stay.
		var notes []string
		for _, n := range res.Meta.Notes {
			for e, title := range engineTitle {
				if strings.HasPrefix(n, title+" ") && !strings.Contains(","+enginesFlag+",", ","+e+",") {
					notes = append(notes, n)
				}
			}
		}
		started := time.Now()
		notes = append(notes, "Load average (1, 5, 15 min) at the start of the run of "+strings.ReplaceAll(enginesFlag, ",", ", ")+": "+loadAverage()+" (other work shares this 2-core machine: compare ratios within one engine's run, not absolute times across reports).")
		distDir, err := snapshotDist(filepath.Join(root, "dist"))
		if err != nil {
			return err
		}
		defer os.RemoveAll(distDir)
		srv, err := startServer(root, distDir)
		if err != nil {
			return err
		}
		defer srv.close()
		for _, name := range strings.Split(enginesFlag, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			t0 := time.Now()
			e, err := startEngine(name, chromiumPath)
			if err != nil {
				return fmt.Errorf("bench: %s: %w", name, err)
			}
			browsers[name] = e.version()
			log.Printf("=== %s: %s", name, e.version())
			err = measureAll(root, distDir, jsonPath, e, srv, res, sel, runs, timeout)
			e.close()
			if err != nil {
				return err
			}
			if err := measureDemo(name, srv, res, sel, runs, timeout); err != nil {
				return err
			}
			if err := res.save(jsonPath); err != nil {
				return err
			}
			log.Printf("=== %s done in %s", name, time.Since(t0).Round(time.Second))
			notes = append(notes, fmt.Sprintf("%s measured %s in %s; load average after: %s.", engineTitle[name], time.Now().UTC().Format("2006-01-02 15:04 UTC"), time.Since(t0).Round(time.Second), loadAverage()))
		}
		notes = append(notes, fmt.Sprintf("Run of %s: %s in all.", strings.ReplaceAll(enginesFlag, ",", ", "), time.Since(started).Round(time.Second)))
		res.Meta = newMeta(root, browsers["chromium"], runs, notes)
		res.Meta.Browsers = browsers
		res.Meta.Larder = rev
		if _, err := os.Stat(filepath.Join(root, "dist", "larder.js")); err != nil {
			res.Meta.Notes = appendOnce(res.Meta.Notes, "dist/larder.js was missing: Larder was not measured in this run.")
		}
	}
	if reportOnly && res.Meta.Date == "" { // a run that was stopped before it wrote its meta
		res.Meta = newMeta(root, "", runs, nil)
		res.Meta.Larder = larderRevision(root)
	}
	res.Sizes = measureSizes(root, res.Sizes)
	if bd, err := measurePackages(root); err != nil {
		log.Printf("larder.wasm by package: %v", err)
	} else {
		res.Packages = bd
	}
	if err := res.save(jsonPath); err != nil {
		return err
	}
	if err := writeReport(filepath.Join(benchDir, "RESULTS.md"), res); err != nil {
		return err
	}
	b, err := startChromium(chromiumPath) // draws the chart
	if err != nil {
		return err
	}
	defer b.close()
	if err := writeChart(b, filepath.Join(benchDir, "results.png"), res); err != nil {
		return err
	}
	log.Printf("wrote %s, %s, %s", jsonPath, filepath.Join(benchDir, "RESULTS.md"), filepath.Join(benchDir, "results.png"))
	return nil
}

// selected says whether the figure key of w is to be measured.
func selected(sel *regexp.Regexp, w workload, key string) bool {
	if coreOnly && !w.Core {
		return false
	}
	return sel.MatchString(w.ID+"/"+key) && (skipRe == nil || !skipRe.MatchString(w.ID+"/"+key))
}

func measureAll(root, distDir, jsonPath string, b engine, srv *server, res *results, sel *regexp.Regexp, runs int, timeout time.Duration) error {
	haveLarder := fileExists(filepath.Join(distDir, "larder.js"))
	if !haveLarder {
		log.Printf("dist/larder.js missing: measuring the peers only")
	}
	for _, w := range workloads {
		var todo []config
		for _, c := range configs {
			if w.Demo || !w.appliesTo(c) || !selected(sel, w, c.key()) {
				continue
			}
			if c.System == "larder" && !haveLarder {
				continue
			}
			todo = append(todo, c)
		}
		if len(todo) == 0 {
			continue
		}
		if !w.ColdCache && primeHold > 0 {
			// Prime: the caches cleared, every system gets one untimed first
			// visit running the workload, its tab then held open. Chrome
			// writes a wasm module's code cache only from a visit that
			// compiled the module without it, a few seconds after its hot
			// functions were optimised, and only while that page is alive;
			// later visits load it and never add to it. Larder's first visit
			// also runs its warm-up (larder-worker.js, Warmer), which the
			// timed runs turn off: their storage is wiped before each, but a
			// returning visitor's record of the warm-up is not.
			if err := b.clearCache(); err != nil {
				return fmt.Errorf("clear cache before priming %s: %w", w.ID, err)
			}
			// Larder's three configs share larder.wasm, which has one first
			// visit: only the first config primes, with the warm-up. A
			// priming visit of the others would load the cached module and
			// run hot code for seconds, which makes Chrome rewrite the cache
			// with less in it (findings.md, section 1).
			larderPrimed := false
			for _, c := range todo {
				if skipReason(b.name(), w.ID+"/"+c.key()) != "" {
					continue
				}
				larder := c.System == "larder"
				if larder && larderPrimed {
					continue
				}
				larderPrimed = larderPrimed || larder
				hold := primeHold
				if larder {
					hold = primeHoldLarder
				}
				var out pageResult
				if _, err := measureOnce(b, srv, w, c, timeout, true, larder && primeWarmup, fmt.Sprintf("new Promise((r) => setTimeout(() => r(1), %d))", hold.Milliseconds()), &out); err != nil {
					log.Printf("prime %s %s: %v", w.ID, c.key(), err)
				} else {
					log.Printf("%-8s %-12s %-26s prime:  %9.1f ms (untimed, held %s)", b.name(), w.ID, c.key(), out.MS, hold)
				}
			}
		}
		cells := map[string]*cell{}
		for _, c := range todo {
			cells[c.key()] = res.reset(b.name(), w, c)
		}
		for i := 0; i < runs; i++ {
			for _, c := range todo {
				cl := cells[c.key()]
				if cl.Error != "" && len(cl.MS) == 0 && i >= 2 {
					continue // failed twice in a row and never worked: skip
				}
				if reason := skipReason(b.name(), w.ID+"/"+c.key()); reason != "" {
					cl.Error = "not measured: " + reason
					continue
				}
				if total := sum(cl.MS); len(cl.MS) >= 3 && time.Duration(total*float64(time.Millisecond)) > cellBudget {
					continue
				}
				out, err := measureOne(b, srv, w, c, timeout)
				if err != nil {
					cl.Error = firstLine(err.Error())
					log.Printf("%-8s %-12s %-26s run %d: error: %s", b.name(), w.ID, c.key(), i+1, cl.Error)
					continue
				}
				cl.MS = append(cl.MS, out.MS)
				mem := out.DevtoolsMemory
				if mem < 0 && out.Memory != nil {
					mem = int64(*out.Memory) // the adapter's own figure
				}
				cl.Memory = append(cl.Memory, mem)
				if out.Info != nil {
					cl.Info = out.Info
				}
				if out.Phases != nil {
					cl.Phases = append(cl.Phases, out.Phases)
				}
				log.Printf("%-8s %-12s %-26s run %d: %9.1f ms  mem %s", b.name(), w.ID, c.key(), i+1, out.MS, fmtBytes(mem))
			}
		}
		if err := res.save(jsonPath); err != nil {
			return err
		}
	}
	return nil
}

type pageResult struct {
	MS     float64        `json:"ms"`
	Memory *float64       `json:"memory"`
	Info   map[string]any `json:"info"`
	Phases []phase        `json:"phases"` // Larder's larder.timings()
	// DevtoolsMemory is the workers' wasm memory read through DevTools
	// (see memory.go), -1 when that failed.
	DevtoolsMemory int64 `json:"-"`
}

func measureExpr(c config, js string, warmup bool) string {
	opts, _ := json.Marshal(map[string]any{"system": c.System, "backend": c.Backend, "workload": js, "warmup": warmup})
	return "window.bench.measure(" + string(opts) + ")"
}

func runExpr(c config, js, phase string, warmup bool) string {
	opts, _ := json.Marshal(map[string]any{"system": c.System, "backend": c.Backend, "workload": js, "phase": phase, "warmup": warmup})
	return "window.bench.run(" + string(opts) + ")"
}

// measureOne is one figure: clean storage, an optional setup page load, then
// the timed page load.
func measureOne(b engine, srv *server, w workload, c config, timeout time.Duration) (pageResult, error) {
	var out pageResult
	mem, err := measureOnce(b, srv, w, c, timeout, false, false, "window.bench.finish()", &out)
	out.DevtoolsMemory = mem
	return out, err
}

// measureOnce runs w on a fresh page load after cleaning storage, then
// evaluates finish on that page. A cold-cache workload loads its page from
// an origin made for this run (a new port of the bench server): nothing of
// it is in the browser's HTTP cache, code caches or storage, all keyed by
// URL or origin, so the page load is a first visit on every engine without
// a browser restart. A priming run (prime) holds its setup page too;
// warmup turns Larder's warm-up on (its first visit).
func measureOnce(b engine, srv *server, w workload, c config, timeout time.Duration, prime, warmup bool, finish string, out *pageResult) (int64, error) {
	origin := srv.origin(c, w.Throttled)
	if w.ColdCache {
		fresh, st, done, err := srv.fresh(c, w.Throttled)
		if err != nil {
			return -1, err
		}
		defer done()
		if w.Throttled {
			defer func() {
				if out.Info == nil {
					out.Info = map[string]any{}
				}
				out.Info["requests"] = float64(st.requests.Load())
				out.Info["transferred"] = float64(st.bytes.Load()) // float64, as read back from results.json
			}()
		}
		origin = fresh
	} else {
		debugf("%s %s: clear storage", w.ID, c.key())
		if err := b.clearOrigin(origin); err != nil {
			return -1, fmt.Errorf("clear storage: %w", err)
		}
	}
	url := origin + "/bench/web/index.html"
	if w.Setup {
		// When priming, the setup page load is the first visit: it gets the
		// warm-up and the hold.
		setupFinish := ""
		if prime {
			setupFinish = finish
		}
		var setup pageResult
		if _, err := b.evalPage(url, runExpr(c, w.JS, "setup", warmup), setupFinish, false, timeout, &setup); err != nil {
			return -1, fmt.Errorf("setup: %w", err)
		}
	}
	debugf("%s %s: measure", w.ID, c.key())
	// Larder exposes no memory figure: DevTools reads its worker's wasm
	// memory. The peers report their own (the byteLength of their
	// WebAssembly.Memory, the same quantity): attaching DevTools to their
	// module workers detached them in Chromium 156.
	mem, err := b.evalPage(url, measureExpr(c, w.JS, warmup && !w.Setup), finish, c.System == "larder", timeout, out)
	// Let the closed tab's worker release its OPFS handles and locks.
	time.Sleep(150 * time.Millisecond)
	return mem, err
}

func newMeta(root, chromiumVersion string, runs int, notes []string) meta {
	m := meta{
		Date:     time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Chromium: chromiumVersion,
		Machine:  machine(),
		Go:       runtime.Version(),
		Larder:   larderRevision(root),
		Runs:     runs,
		Peers:    map[string]string{},
		Notes:    notes,
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if b, err := os.ReadFile(filepath.Join(root, "bench", "package.json")); err == nil && json.Unmarshal(b, &pkg) == nil {
		m.Peers = pkg.Dependencies
	}
	return m
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GB RAM", float64(kb)/1024/1024)
	}
	return fmt.Sprintf("%s/%s, %d cores (%s)%s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, mem)
}

// snapshotDist copies the files of dist/ and of dist/client/ (the modules
// larder.js imports) into a temporary directory; no other subdirectory.
func snapshotDist(dist string) (string, error) {
	tmp, err := os.MkdirTemp("", "larder-bench-dist-")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dist); err != nil {
		return tmp, nil // no dist/: peers only
	}
	for _, sub := range []string{"", "client"} {
		entries, err := os.ReadDir(filepath.Join(dist, sub))
		if err != nil {
			continue
		}
		if err := os.MkdirAll(filepath.Join(tmp, sub), 0o755); err != nil {
			return "", err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dist, sub, e.Name()))
			if err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(tmp, sub, e.Name()), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	return tmp, nil
}

// larderRevision describes the build of dist/: when larder.wasm was written
// and the commit that was HEAD then (a build can include uncommitted work).
func larderRevision(root string) string {
	st, err := os.Stat(filepath.Join(root, "dist", "larder.wasm"))
	if err != nil {
		return "no dist/larder.wasm"
	}
	when := st.ModTime().UTC()
	desc := "dist/ built " + when.Format("2006-01-02 15:04 UTC")
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%h", "--before="+when.Format(time.RFC3339)).Output()
	if err == nil && len(out) > 0 {
		desc += ", HEAD then " + strings.TrimSpace(string(out))
	}
	return desc
}

// loadAverage is /proc/loadavg's first three figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// debugf logs when BENCH_DEBUG is set.
func debugf(format string, a ...any) {
	if os.Getenv("BENCH_DEBUG") != "" {
		log.Printf("debug: "+format, a...)
	}
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func appendOnce(xs []string, s string) []string {
	for _, x := range xs {
		if x == s {
			return xs
		}
	}
	return append(xs, s)
}

func fmtBytes(n int64) string {
	switch {
	case n < 0:
		return "n/a"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
}
