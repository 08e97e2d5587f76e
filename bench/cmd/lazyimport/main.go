//go:build !js

// Command lazyimport measures what importing @larderdb/larder without
// downloading anything costs a returning visitor: the time from navigation
// to the first query's answer on a page that imports larder.js and calls
// open() (lazy: the wasm is fetched when open() asks for it) against the
// same page calling preload() as soon as the module is imported (eager:
// what importing did before issue 17).
//
//	make build && go run ./bench/cmd/lazyimport -runs 15
//
// Each engine gets one fresh profile. Two visits of each page warm it
// (HTTP cache, compiled wasm); then the visits alternate, lazy and eager
// in a random order per round, each a fresh navigation (from about:blank)
// of a page that waits -delay ms (the app's own start-up work) between
// importing and open(). The wasm and the modules are served with
// Cache-Control: max-age=31536000, immutable, as bundlers' hashed assets
// are. The times come from performance.now() in the page (milliseconds
// since navigation start); the figures are medians and quartiles.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// page opens the database after the delay and answers a first query.
// mode "eager" calls preload() at import time.
const page = `<!doctype html>
<meta charset="utf-8">
<title>lazy import</title>
<script type="module">
import { open, preload } from "/dist/larder.js";
const q = new URLSearchParams(location.search);
const imported = performance.now();
if (q.get("mode") === "eager") preload();
try {
  await new Promise((r) => setTimeout(r, Number(q.get("delay"))));
  const db = await open({ name: "lazyimport", migrations: [{ version: 1, name: "note", up: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)" }] });
  const opened = performance.now();
  await db.query("SELECT count(*) AS n FROM note");
  const queried = performance.now();
  const wasm = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/larder.wasm"));
  window.__result = { imported, opened, queried, fetchStart: wasm?.startTime ?? -1, fetchEnd: wasm?.responseEnd ?? -1, transferred: wasm?.transferSize ?? -1 };
} catch (e) {
  window.__result = { error: String(e?.code ?? "") + " " + String(e?.message ?? e) };
}
</script>`

type result struct {
	Imported, Opened, Queried float64
	FetchStart, FetchEnd      float64 // larder.wasm's resource timing
	Transferred               float64 // its bytes from the network (0: the HTTP cache)
	Error                     string
}

func main() {
	dist := flag.String("dist", "dist", "the directory `make build` wrote")
	runs := flag.Int("runs", 15, "measured visits of each page per engine and delay")
	engines := flag.String("engines", "chromium,firefox", "comma-separated engines")
	delays := flag.String("delays", "0,200", "comma-separated app start-up work (ms) between import and open()")
	flag.Parse()
	if _, err := os.Stat(filepath.Join(*dist, "larder.wasm")); err != nil {
		log.Fatalf("lazyimport: %v (run make build)", err)
	}
	var ds []int
	for _, s := range strings.Split(*delays, ",") {
		d, err := strconv.Atoi(s)
		if err != nil {
			log.Fatalf("lazyimport: -delays: %v", err)
		}
		ds = append(ds, d)
	}
	url := serve(*dist)
	for _, engine := range strings.Split(*engines, ",") {
		if err := measure(engine, url, ds, *runs); err != nil {
			log.Fatalf("lazyimport: %s: %v", engine, err)
		}
	}
}

// serve serves the page and dist/ (cached a year) on a free port.
func serve(dist string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/visit.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/dist/", func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean(strings.TrimPrefix(r.URL.Path, "/dist/"))
		w.Header().Set("Content-Type", browsertest.ContentType(p))
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeFile(w, r, filepath.Join(dist, filepath.FromSlash(p)))
	})
	go http.Serve(ln, mux)
	return "http://" + ln.Addr().String()
}

func measure(engine, url string, delays []int, runs int) error {
	b, err := browsertest.Start(engine)
	if err != nil {
		return err
	}
	defer b.Close()
	tab, err := b.OpenTab()
	if err != nil {
		return err
	}
	visit := func(mode string, delay int) (result, error) {
		if err := tab.NavigateTimeout(30*time.Second, "about:blank"); err != nil {
			return result{}, err
		}
		if err := tab.NavigateTimeout(60*time.Second, fmt.Sprintf("%s/visit.html?mode=%s&delay=%d", url, mode, delay)); err != nil {
			return result{}, err
		}
		deadline := time.Now().Add(120 * time.Second)
		for {
			var raw string
			if err := tab.EvalTimeout(30*time.Second, `JSON.stringify(window.__result ?? null)`, &raw); err != nil {
				return result{}, err
			}
			if raw != "null" {
				var r result
				if err := json.Unmarshal([]byte(raw), &r); err != nil {
					return result{}, err
				}
				if r.Error != "" {
					return r, fmt.Errorf("%s visit: %s", mode, r.Error)
				}
				return r, nil
			}
			if time.Now().After(deadline) {
				return result{}, fmt.Errorf("%s visit: no answer", mode)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, mode := range []string{"lazy", "eager", "lazy", "eager"} { // warm the cache
		if _, err := visit(mode, 0); err != nil {
			return err
		}
	}
	for _, delay := range delays {
		got := map[string][]result{}
		for range runs {
			modes := []string{"lazy", "eager"}
			rand.Shuffle(len(modes), func(i, j int) { modes[i], modes[j] = modes[j], modes[i] })
			for _, mode := range modes {
				r, err := visit(mode, delay)
				if err != nil {
					return err
				}
				got[mode] = append(got[mode], r)
			}
		}
		for _, mode := range []string{"lazy", "eager"} {
			var first, fetched, open []float64
			cached := 0
			for _, r := range got[mode] {
				first = append(first, r.Queried)
				fetched = append(fetched, r.FetchEnd)
				open = append(open, r.Opened-r.Imported)
				if r.Transferred == 0 {
					cached++
				}
			}
			fmt.Printf("%-8s delay %3d ms  %-5s  first query %s ms after navigation; open() done %s ms after import; wasm fetched by %s ms (%d/%d from the HTTP cache)\n",
				engine, delay, mode, quartiles(first), quartiles(open), quartiles(fetched), cached, len(first))
		}
	}
	return nil
}

// quartiles formats the median and the interquartile range.
func quartiles(xs []float64) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(q float64) float64 { return s[int(q*float64(len(s)-1)+0.5)] }
	return fmt.Sprintf("%4.0f [%4.0f–%4.0f]", at(0.5), at(0.25), at(0.75))
}
