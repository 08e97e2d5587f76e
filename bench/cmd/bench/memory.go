//go:build !js

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// workerWasmMemory sums the byteLength of every live WebAssembly.Memory in
// the dedicated workers the tab's page started (ParentFrameID: a closing tab
// of an earlier run can still list its workers). It asks DevTools for the objects whose prototype is
// WebAssembly.Memory.prototype (Runtime.queryObjects), so it needs no hook
// in any system and measures all of them the same way.
func workerWasmMemory(tab context.Context) (int64, error) {
	ts, err := chromedp.CallBrowser(tab, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return -1, err
	}
	var page string
	if c := chromedp.FromContext(tab); c != nil && c.Target != nil {
		page = string(c.Target.TargetID)
	}
	var total int64
	found := false
	for _, info := range ts.TargetInfos {
		if info.Type != "worker" || (info.ParentFrameID != "" && string(info.ParentFrameID) != page) {
			continue
		}
		actx, acancel := context.WithTimeout(tab, 20*time.Second)
		wctx, cancel := chromedp.NewContext(actx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
		n, err := chromedp.Run(wctx, wasmMemoryAction)
		cancel()
		acancel()
		if err != nil {
			return -1, fmt.Errorf("worker %s: %w", info.URL, err)
		}
		total += n
		found = true
	}
	if !found {
		return -1, fmt.Errorf("no worker target")
	}
	return total, nil
}

func wasmMemoryAction(ctx context.Context, t *chromedp.Target) (int64, error) {
	proto, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: "WebAssembly.Memory.prototype"})
	if err != nil {
		return -1, err
	}
	if proto.Result == nil || proto.Result.ObjectID == "" {
		return -1, fmt.Errorf("no WebAssembly.Memory.prototype")
	}
	objs, err := cdp.Call(ctx, t, runtime.QueryObjects, runtime.QueryObjectsParams{PrototypeObjectID: proto.Result.ObjectID})
	if err != nil {
		return -1, err
	}
	sum, err := cdp.Call(ctx, t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: "function () { return this.reduce((s, m) => s + m.buffer.byteLength, 0); }",
		ObjectID:            objs.Objects.ObjectID,
		ReturnByValue:       ptr(true),
	})
	if err != nil {
		return -1, err
	}
	if sum.Result == nil {
		return -1, fmt.Errorf("no result")
	}
	var n float64
	if err := json.Unmarshal([]byte(sum.Result.Value), &n); err != nil {
		return -1, err
	}
	return int64(n), nil
}

func ptr[T any](v T) *T { return &v }
