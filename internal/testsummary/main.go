// Command testsummary reads `go test -json` on stdin and prints what
// `go test` prints without -v (each package's ok or FAIL line, the output
// of failed tests), then the browser tests per engine (tests whose name
// has a /chromium, /firefox or /webkit part, and TestBrowser… tests
// without one, which run in Chromium: passed, failed, skipped, summed
// time), then a closing line "N passed, N failed, N skipped". It exits 1
// when a test or package failed. `make test` pipes into it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type count struct {
	pass, fail, skip int
	secs             float64
}

var engines = []string{"chromium", "firefox", "webkit"}

// engineOf names the engine a test ran on, or "".
func engineOf(test string) string {
	parts := strings.Split(test, "/")
	for _, p := range parts[1:] {
		for _, e := range engines {
			if p == e {
				return e
			}
		}
	}
	if strings.HasPrefix(parts[0], "TestBrowser") {
		return "chromium"
	}
	return ""
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	outputs := map[string][]string{} // package/test → its output lines
	hasSub := map[string]bool{}      // tests with subtests: counted through them
	var results []event
	var total count
	failed := false
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Println(string(line)) // build errors and the like
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			if e.Test == "" {
				if strings.HasPrefix(e.Output, "ok ") || strings.HasPrefix(e.Output, "FAIL") || strings.HasPrefix(e.Output, "?") || strings.HasPrefix(e.Output, "panic") {
					fmt.Print(e.Output)
				} else {
					outputs[key] = append(outputs[key], e.Output)
				}
				continue
			}
			outputs[key] = append(outputs[key], e.Output)
			if i := strings.LastIndex(e.Test, "/"); i > 0 {
				hasSub[e.Package+" "+e.Test[:i]] = true
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				if e.Action == "fail" {
					failed = true
					for _, l := range outputs[key] {
						fmt.Print(l)
					}
				}
				continue
			}
			results = append(results, e)
			if e.Action == "fail" {
				failed = true
				for _, l := range outputs[key] {
					fmt.Print(l)
				}
			}
		}
	}
	perEngine := map[string]*count{}
	engineSub := map[string]bool{} // top-level tests with engine-named subtests
	for _, e := range results {
		eng := engineOf(e.Test)
		parts := strings.Split(e.Test, "/")
		if eng != "" && len(parts) > 1 {
			engineSub[e.Package+" "+parts[0]] = true
		}
		var c *count
		if eng != "" {
			if perEngine[eng] == nil {
				perEngine[eng] = &count{}
			}
			c = perEngine[eng]
			// An engine's time: its engine-named subtests, and the
			// Chromium-only TestBrowser… tests as a whole.
			if parts[len(parts)-1] == eng || (len(parts) == 1 && !engineSub[e.Package+" "+e.Test]) {
				c.secs += e.Elapsed
			}
		}
		if hasSub[e.Package+" "+e.Test] {
			continue // counted at its leaves
		}
		for _, k := range []*count{&total, c} {
			if k == nil {
				continue
			}
			switch e.Action {
			case "pass":
				k.pass++
			case "fail":
				k.fail++
			case "skip":
				k.skip++
			}
		}
	}
	if len(perEngine) > 0 {
		fmt.Println("browser tests per engine (leaf tests; time summed over the tests of the engine):")
		names := make([]string, 0, len(perEngine))
		for n := range perEngine {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			return strings.Index("chromium firefox webkit", names[i]) < strings.Index("chromium firefox webkit", names[j])
		})
		for _, n := range names {
			c := perEngine[n]
			fmt.Printf("  %-8s %4d passed, %d failed, %d skipped, %v\n", n, c.pass, c.fail, c.skip, (time.Duration(c.secs * float64(time.Second))).Round(time.Second))
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", total.pass, total.fail, total.skip)
	if failed {
		os.Exit(1)
	}
}
