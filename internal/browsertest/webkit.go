//go:build !js

package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WebKitDriverPaths are the places WebKitWebDriver is looked for, after the
// LARDER_WEBKITDRIVER environment variable (package webkit2gtk-driver).
var WebKitDriverPaths = []string{"/usr/bin/WebKitWebDriver"}

// MiniBrowserGlobs are where WebKitGTK's MiniBrowser is looked for, after
// the LARDER_MINIBROWSER environment variable.
var MiniBrowserGlobs = []string{
	"/usr/lib/*/webkit2gtk-4.1/MiniBrowser", "/usr/lib/*/webkitgtk-6.0/MiniBrowser", "/usr/lib/*/webkit2gtk-4.0/MiniBrowser",
	"/usr/libexec/webkit2gtk-4.1/MiniBrowser", "/usr/libexec/webkitgtk-6.0/MiniBrowser",
}

// WebKitFeatures is MiniBrowser's flag turning on the storage features
// Safari ships on and WebKitGTK leaves off: the Storage API
// (navigator.storage: persist, persisted, estimate, getDirectory), the
// File System API and sync access handles (OPFS). It also turns off the
// throttling of hidden pages' timers and processes: the multi-tab tests
// drive windows that are not in front, like Chromium's
// --disable-background-timer-throttling.
const WebKitFeatures = "--features=+StorageAPI,+StorageAPIEstimate,+FileSystem,+AccessHandle,+FileSystemWritableStream," +
	"-DOMTimersThrottling,-HiddenPageDOMTimerThrottling,-PageVisibilityBasedProcessSuppression"

// FindWebKit returns the paths of WebKitWebDriver and MiniBrowser.
func FindWebKit() (driver, browser string, err error) {
	driver, err = findBinary("LARDER_WEBKITDRIVER", WebKitDriverPaths, "WebKitWebDriver", "webkit2gtk-driver")
	if err != nil {
		return "", "", err
	}
	if p := os.Getenv("LARDER_MINIBROWSER"); p != "" {
		return driver, p, nil
	}
	for _, g := range MiniBrowserGlobs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return driver, m[0], nil
		}
	}
	return "", "", errors.New("browsertest: WebKitGTK's MiniBrowser not found (it comes with webkit2gtk-driver's libwebkit2gtk; `make test` installs it)")
}

// webkit is MiniBrowser driven by WebKitWebDriver over W3C WebDriver
// (https://w3c.github.io/webdriver/), on an Xvfb display of its own.
// WebDriver runs one command at a time per session and scripts in the
// current window only, so every tab's command switches to its window
// under one lock; a script's Promise is started by one command and its
// outcome fetched by short polls, so a slow script in one tab does not
// hold the others.
type webkit struct {
	xvfb, drv *exec.Cmd
	base      string // http://127.0.0.1:PORT/session/ID
	client    *http.Client

	mu      sync.Mutex // one WebDriver command at a time, in its window
	current string     // the window commands go to
	first   string     // the session's first window, reused by the first NewTab
	seq     int
}

func startWebKit(t interface{ TempDir() string }) (driver, error) {
	drvPath, browser, err := FindWebKit()
	if err != nil {
		return nil, err
	}
	w := &webkit{client: &http.Client{}}
	display, err := w.startXvfb()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		w.close()
		return nil, err
	}
	w.drv = exec.Command(drvPath, "--port="+strconv.Itoa(port), "--host=127.0.0.1")
	w.drv.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+t.TempDir(), "XDG_RUNTIME_DIR="+t.TempDir(),
		"WEBKIT_DISABLE_COMPOSITING_MODE=1", "LIBGL_ALWAYS_SOFTWARE=1", "GTK_A11Y=none", "NO_AT_BRIDGE=1")
	w.drv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.drv.Start(); err != nil {
		w.close()
		return nil, err
	}
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{"binary": browser, "args": append([]string{"--automation"}, WebKitFeatures)},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	deadline := time.Now().Add(startTimeout)
	for {
		err = w.do(context.Background(), "POST", root+"/session", caps, &sess)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("WebDriver session with %s: %w", browser, err)
	}
	w.base = root + "/session/" + sess.SessionID
	if err := w.do(context.Background(), "GET", w.base+"/window", nil, &w.first); err != nil {
		w.close()
		return nil, err
	}
	w.current = w.first
	return w, nil
}

// startXvfb starts an X server on a free display and returns its name.
func (w *webkit) startXvfb() (string, error) {
	exe, err := exec.LookPath("Xvfb")
	if err != nil {
		return "", errors.New("browsertest: Xvfb not found (install it with `apt-get install -y xvfb`; `make test` does)")
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	w.xvfb = exec.Command(exe, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	w.xvfb.ExtraFiles = []*os.File{pw}
	w.xvfb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.xvfb.Start(); err != nil {
		pw.Close()
		return "", err
	}
	pw.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	n := strings.TrimSpace(line)
	if _, perr := strconv.Atoi(n); perr != nil {
		w.close()
		return "", fmt.Errorf("Xvfb did not report its display: %q %v", line, err)
	}
	return ":" + n, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// do sends one WebDriver command and decodes its value into out.
func (w *webkit) do(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var r struct {
		Value json.RawMessage `json:"value"`
	}
	data, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("webkit: %s %s: HTTP %d: %.200s", method, url, res.StatusCode, data)
	}
	if res.StatusCode != 200 {
		var e struct{ Error, Message string }
		json.Unmarshal(r.Value, &e)
		return fmt.Errorf("webkit: %s: %s", e.Error, e.Message)
	}
	if out != nil {
		return json.Unmarshal(r.Value, out)
	}
	return nil
}

// in runs fn with the session's commands going to window.
func (w *webkit) in(ctx context.Context, window string, fn func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current != window {
		if err := w.do(ctx, "POST", w.base+"/window", map[string]any{"handle": window}, nil); err != nil {
			return err
		}
		w.current = window
	}
	return fn()
}

func (w *webkit) newTab() (tabDriver, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h := w.first; h != "" {
		w.first = ""
		return &webkitTab{w: w, window: h}, nil
	}
	// New Window needs an open current window: after a Close, switch to
	// one that is left.
	if w.current == "" {
		var handles []string
		if err := w.do(context.Background(), "GET", w.base+"/window/handles", nil, &handles); err != nil {
			return nil, err
		}
		if len(handles) == 0 {
			return nil, errors.New("webkit: no window left (closing a session's last window ends it)")
		}
		if err := w.do(context.Background(), "POST", w.base+"/window", map[string]any{"handle": handles[0]}, nil); err != nil {
			return nil, err
		}
		w.current = handles[0]
	}
	// A window, not a tab: a background tab's page is hidden, and WebKit
	// throttles hidden pages' timers.
	var r struct{ Handle string }
	if err := w.do(context.Background(), "POST", w.base+"/window/new", map[string]any{"type": "window"}, &r); err != nil {
		return nil, err
	}
	return &webkitTab{w: w, window: r.Handle}, nil
}

func (w *webkit) close() {
	if w.base != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		w.do(ctx, "DELETE", w.base, nil, nil)
		cancel()
	}
	for _, c := range []*exec.Cmd{w.drv, w.xvfb} {
		if c == nil || c.Process == nil {
			continue
		}
		syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { c.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
}

type webkitTab struct {
	w      *webkit
	window string
}

func (t *webkitTab) navigate(ctx context.Context, url string) error {
	return t.w.in(ctx, t.window, func() error {
		return t.w.do(ctx, "POST", t.w.base+"/url", map[string]any{"url": url}, nil)
	})
}

func (t *webkitTab) reload(ctx context.Context) error {
	return t.w.in(ctx, t.window, func() error {
		return t.w.do(ctx, "POST", t.w.base+"/refresh", map[string]any{}, nil)
	})
}

func (t *webkitTab) script(ctx context.Context, src string, args []any, out any) error {
	return t.w.in(ctx, t.window, func() error {
		return t.w.do(ctx, "POST", t.w.base+"/execute/sync", map[string]any{"script": src, "args": args}, out)
	})
}

const webkitStart = `const [id, src] = arguments;
const box = (window.__browsertestEvals ||= {});
box[id] = { done: false };
Promise.resolve()
  .then(() => (0, eval)("(" + src + "\n)"))
  .then((v) => { box[id] = { done: true, ok: true, v: v === undefined ? null : JSON.stringify(v) }; },
        (e) => { box[id] = { done: true, ok: false, e: e && e.stack ? String(e) + "\n" + e.stack : String(e) }; });
return true;`

const webkitPoll = `const box = window.__browsertestEvals || {};
const r = box[arguments[0]];
if (!r) return { lost: true };
if (!r.done) return null;
delete box[arguments[0]];
return r;`

func (t *webkitTab) eval(ctx context.Context, expr string) ([]byte, error) {
	t.w.mu.Lock()
	t.w.seq++
	id := "e" + strconv.Itoa(t.w.seq)
	t.w.mu.Unlock()
	if err := t.script(ctx, webkitStart, []any{id, expr}, nil); err != nil {
		return nil, err
	}
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var r *struct {
			Lost bool
			OK   bool
			V    *string
			E    string
		}
		if err := t.script(ctx, webkitPoll, []any{id}, &r); err != nil {
			return nil, err
		}
		if r != nil {
			switch {
			case r.Lost:
				return nil, errors.New("webkit: the page navigated away before the script settled")
			case !r.OK:
				return nil, errors.New("webkit: " + r.E)
			case r.V == nil:
				return nil, nil
			}
			return []byte(*r.V), nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (t *webkitTab) pageErrors() []string {
	var errs []string
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if err := t.script(ctx, `return window.__browsertestErrors || [];`, []any{}, &errs); err != nil {
		return []string{"browsertest: reading the page's errors: " + err.Error()}
	}
	return errs
}

func (t *webkitTab) close() error {
	return t.w.in(context.Background(), t.window, func() error {
		var left []string
		err := t.w.do(context.Background(), "DELETE", t.w.base+"/window", nil, &left)
		t.w.current = ""
		return err
	})
}
