//go:build !js

package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"time"
)

// results is bench/results.json: every raw figure of the last run, merged
// cell by cell when a rerun is restricted with -only.
type results struct {
	Meta  meta      `json:"meta"`
	Cells []*cell   `json:"cells"`
	Sizes []sizeRow `json:"sizes"`
	// Packages is larder.wasm by Go package (pkgsizes.go).
	Packages *wasmBreakdown `json:"packages,omitempty"`
}

type meta struct {
	Date     string            `json:"date"`
	Chromium string            `json:"chromium"`
	Browsers map[string]string `json:"browsers,omitempty"` // engine → version`
	Machine  string            `json:"machine"`
	Go       string            `json:"go"`
	Larder   string            `json:"larder"` // when dist/ was built, and HEAD then
	Runs     int               `json:"runs"`
	Peers    map[string]string `json:"peers"`
	Notes    []string          `json:"notes,omitempty"`
}

// cell holds the runs of one workload on one config.
type cell struct {
	Engine   string         `json:"engine"` // "chromium", "firefox", "webkit"
	Workload string         `json:"workload"`
	System   string         `json:"system"`
	Backend  string         `json:"backend"`
	MS       []float64      `json:"ms"`
	Memory   []int64        `json:"memory,omitempty"` // bytes of wasm memory after the workload; -1 unknown
	Info     map[string]any `json:"info,omitempty"`
	Error    string         `json:"error,omitempty"`
	At       string         `json:"at"`
}

func (r *results) find(engine, w, sys, backend string) *cell {
	for _, c := range r.Cells {
		if c.Engine == engine && c.Workload == w && c.System == sys && c.Backend == backend {
			return c
		}
	}
	return nil
}

// reset replaces (or adds) the cell before a fresh measurement of it.
func (r *results) reset(engine string, w workload, c config) *cell {
	r.Cells = slices.DeleteFunc(r.Cells, func(x *cell) bool {
		return x.Engine == engine && x.Workload == w.ID && x.System == c.System && x.Backend == c.Backend
	})
	nc := &cell{Engine: engine, Workload: w.ID, System: c.System, Backend: c.Backend, At: time.Now().UTC().Format(time.RFC3339)}
	r.Cells = append(r.Cells, nc)
	return nc
}

func loadResults(path string) (*results, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &results{}, nil
	}
	if err != nil {
		return nil, err
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	for _, c := range r.Cells {
		if c.Engine == "" { // measured before the bench ran other engines
			c.Engine = "chromium"
		}
	}
	return &r, nil
}

func (r *results) save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

type stats struct {
	Median, Min, Max float64
	N                int
}

func summarize(xs []float64) (stats, bool) {
	if len(xs) == 0 {
		return stats{}, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}, true
}

// memoryMedian is the median of the known memory figures, or -1.
func memoryMedian(ms []int64) int64 {
	var xs []float64
	for _, m := range ms {
		if m >= 0 {
			xs = append(xs, float64(m))
		}
	}
	s, ok := summarize(xs)
	if !ok {
		return -1
	}
	return int64(s.Median)
}
