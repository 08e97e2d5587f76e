//go:build !js

package main

import (
	"context"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

var systemColor = map[string]string{
	"larder":      "#d9480f",
	"sqlite-wasm": "#1c7ed6",
	"wa-sqlite":   "#2f9e44",
	"pglite":      "#7048e8",
}

const (
	panelW, panelH = 520, 330
	labelW         = 190
	chartCols      = 3
)

// writeChart draws one panel per workload (horizontal bars, log scale, the
// min–max range as a whisker) as SVG and screenshots it with Chromium, so the
// chart needs no dependency beyond the browser the bench already drives.
func writeChart(b *chromium, path string, res *results) error {
	var panels []string
	for i, w := range workloads {
		panels = append(panels, panel(res, w, (i%chartCols)*panelW, (i/chartCols)*panelH))
	}
	rows := (len(workloads) + chartCols - 1) / chartCols
	width, height := chartCols*panelW, rows*panelH+40
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="DejaVu Sans, sans-serif">
<rect width="100%%" height="100%%" fill="white"/>
<text x="12" y="%d" font-size="13" fill="#333">Larder vs peers: median ms over fresh page loads (whisker: min–max), log scale, lower is better. %s, %s.</text>
%s</svg>`, width, height, height-14, html.EscapeString(res.Meta.Chromium), html.EscapeString(res.Meta.Date), strings.Join(panels, "\n"))
	doc := `<!doctype html><meta charset="utf-8"><style>body{margin:0}</style>` + svg
	tmp, err := os.CreateTemp("", "larder-bench-chart-*.html")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(doc); err != nil {
		return err
	}
	tmp.Close()
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		return err
	}
	ctx, tcancel := context.WithTimeout(tab, time.Minute)
	defer tcancel()
	abs, _ := filepath.Abs(tmp.Name())
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height)), chromedp.Navigate("file://"+abs)); err != nil {
		return err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

func panel(res *results, w workload, x0, y0 int) string {
	type bar struct {
		label, color string
		s            stats
		larder       bool
		note         string
	}
	var bars []bar
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range configs {
		cl := res.find("chromium", w.ID, c.System, c.Backend)
		if cl == nil {
			continue
		}
		s, ok := summarize(cl.MS)
		if !ok {
			note := "failed"
			if strings.HasPrefix(cl.Error, "not measured") {
				note = "not measured (see RESULTS.md)"
			}
			bars = append(bars, bar{label: c.Label, color: systemColor[c.System], larder: c.System == "larder", s: stats{Median: math.NaN()}, note: note})
			continue
		}
		bars = append(bars, bar{label: c.Label, color: systemColor[c.System], s: s, larder: c.System == "larder"})
		lo, hi = math.Min(lo, s.Min), math.Max(hi, s.Max)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<g transform="translate(%d,%d)">`, x0, y0)
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="14" font-weight="bold">%s</text>`, html.EscapeString(w.ID))
	fmt.Fprintf(&b, `<text x="10" y="38" font-size="11" fill="#555">%s</text>`, html.EscapeString(w.Title))
	if len(bars) == 0 || math.IsInf(lo, 1) {
		fmt.Fprintf(&b, `<text x="10" y="80" font-size="12">no data</text></g>`)
		return b.String()
	}
	lo = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 0.01))))
	hi = math.Pow(10, math.Ceil(math.Log10(hi*1.01)))
	plotX, plotW := labelW, panelW-labelW-60
	top, rowH := 50, math.Min(22, float64(panelH-90)/float64(len(bars)))
	xOf := func(v float64) float64 {
		return float64(plotX) + float64(plotW)*(math.Log10(math.Max(v, lo))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	axisY := float64(top) + rowH*float64(len(bars)) + 4
	for d := lo; d <= hi*1.0001; d *= 10 {
		x := xOf(d)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, x, top, x, axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#666" text-anchor="middle">%s</text>`, x, axisY+12, axisLabel(d))
	}
	for i, br := range bars {
		y := float64(top) + rowH*float64(i)
		weight := "normal"
		if br.larder {
			weight = "bold"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" font-weight="%s">%s</text>`, plotX-6, y+rowH*0.7, weight, html.EscapeString(br.label))
		if math.IsNaN(br.s.Median) {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" fill="#c00">%s</text>`, plotX+4, y+rowH*0.7, br.note)
			continue
		}
		x1 := xOf(br.s.Median)
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="%s"/>`, plotX, y+2, math.Max(x1-float64(plotX), 1), rowH-4, br.color, map[bool]string{true: "1", false: "0.75"}[br.larder])
		mid := y + rowH/2
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1"/>`, xOf(br.s.Min), mid, xOf(br.s.Max), mid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#222">%s</text>`, math.Max(x1, xOf(br.s.Max))+4, y+rowH*0.7, fmtMS(br.s.Median))
	}
	b.WriteString("</g>")
	return b.String()
}

func axisLabel(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%gs", ms/1000)
	default:
		return fmt.Sprintf("%gms", ms)
	}
}
