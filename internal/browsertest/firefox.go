//go:build !js

package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// FirefoxPaths are the places Firefox is looked for, in order, after the
// LARDER_FIREFOX environment variable.
var FirefoxPaths = []string{"/usr/bin/firefox-esr", "/usr/bin/firefox"}

// FindFirefox returns the path of the Firefox binary.
func FindFirefox() (string, error) {
	return findBinary("LARDER_FIREFOX", FirefoxPaths, "Firefox", "firefox-esr")
}

func findBinary(env string, paths []string, what, pkg string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("browsertest: %s not found (install it with `apt-get install -y %s`; `make test` does)", what, pkg)
}

// firefoxPrefs go into the fresh profile's user.js: no first-run pages or
// background traffic, and background tabs' timers not throttled (the
// multi-tab tests drive background tabs). The remote agent adds its own
// recommended automation preferences on top.
var firefoxPrefs = map[string]any{
	"remote.active-protocols":                                    1, // WebDriver BiDi
	"browser.shell.checkDefaultBrowser":                          false,
	"browser.startup.homepage_override.mstone":                   "ignore",
	"browser.startup.page":                                       0,
	"datareporting.policy.dataSubmissionEnabled":                 false,
	"toolkit.telemetry.reportingpolicy.firstRun":                 false,
	"app.update.disabledForTesting":                              true,
	"browser.tabs.warnOnClose":                                   false,
	"dom.min_background_timeout_value":                           4,
	"dom.min_background_timeout_value_without_budget_throttling": 4,
	"dom.timeout.enable_budget_timer_throttling":                 false,
	"network.captive-portal-service.enabled":                     false,
	"network.connectivity-service.enabled":                       false,
	"browser.safebrowsing.malware.enabled":                       false,
	"browser.safebrowsing.phishing.enabled":                      false,
	"extensions.update.enabled":                                  false,
	"browser.sessionstore.resume_from_crash":                     false,
	"toolkit.startup.max_resumed_crashes":                        -1,
}

// firefox is Firefox driven over WebDriver BiDi (https://w3c.github.io/webdriver-bidi/):
// JSON commands and events on one WebSocket.
type firefox struct {
	cmd  *exec.Cmd
	conn *websocket.Conn
	done chan struct{}

	mu      sync.Mutex
	seq     int
	waiting map[int]chan bidiReply
	tabs    map[string]*Tab // browsing context → tab, for its log entries
	initial string          // the first tab's context, reused by the first NewTab
	err     error           // why the connection ended
}

type bidiReply struct {
	Type    string          `json:"type"` // "success" | "error" | "event"
	ID      int             `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// startTimeout bounds a browser's start-up (a loaded 2-core machine can
// take a minute and more) and commandTimeout a driver's own commands
// (new tab, close).
const (
	startTimeout   = 5 * time.Minute
	commandTimeout = 3 * time.Minute
)

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

func startFirefox(t interface {
	TempDir() string
	Logf(string, ...any)
}) (driver, error) {
	exe, err := FindFirefox()
	if err != nil {
		return nil, err
	}
	profile := t.TempDir()
	var prefs strings.Builder
	for k, v := range firefoxPrefs {
		b, _ := json.Marshal(v)
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", k, b)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_CRASHREPORTER_SHUTDOWN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &firefox{cmd: cmd, done: make(chan struct{}), waiting: map[int]chan bidiReply{}, tabs: map[string]*Tab{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		for sc.Scan() {
			line := sc.Text()
			if m := bidiListening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			} else if len(seen) < 20 {
				seen = append(seen, line)
			}
		}
		close(found)
	}()
	var url string
	select {
	case url = <-found:
	case <-time.After(startTimeout):
	}
	if url == "" {
		f.kill()
		return nil, fmt.Errorf("%s did not open WebDriver BiDi (no \"WebDriver BiDi listening on\" line)", exe)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	f.conn, _, err = websocket.Dial(ctx, strings.TrimSuffix(url, "/")+"/session", nil)
	if err != nil {
		f.kill()
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	f.conn.SetReadLimit(-1)
	go f.read()
	if _, err := f.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}); err != nil {
		f.close()
		return nil, err
	}
	if _, err := f.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}); err != nil {
		f.close()
		return nil, err
	}
	raw, err := f.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0})
	if err != nil {
		f.close()
		return nil, err
	}
	var tree struct{ Contexts []struct{ Context string } }
	if json.Unmarshal(raw, &tree) == nil && len(tree.Contexts) > 0 {
		f.initial = tree.Contexts[0].Context
	}
	return f, nil
}

func (f *firefox) read() {
	defer close(f.done)
	for {
		_, data, err := f.conn.Read(context.Background())
		if err != nil {
			f.mu.Lock()
			f.err = err
			for id, ch := range f.waiting {
				close(ch)
				delete(f.waiting, id)
			}
			f.mu.Unlock()
			return
		}
		var r bidiReply
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		if r.Type == "event" {
			f.event(r)
			continue
		}
		f.mu.Lock()
		ch := f.waiting[r.ID]
		delete(f.waiting, r.ID)
		f.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

func (f *firefox) event(r bidiReply) {
	if r.Method != "log.entryAdded" {
		return
	}
	var e struct {
		Type   string
		Level  string
		Text   string
		Source struct{ Context string }
	}
	if json.Unmarshal(r.Params, &e) != nil {
		return
	}
	f.mu.Lock()
	tab := f.tabs[e.Source.Context]
	f.mu.Unlock()
	if tab == nil {
		return
	}
	if e.Type == "javascript" {
		tab.uncaught(e.Text)
	} else {
		tab.log(e.Level, e.Text)
	}
}

// call sends one command and waits for its result.
func (f *firefox) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	f.mu.Lock()
	if f.err != nil {
		err := f.err
		f.mu.Unlock()
		return nil, fmt.Errorf("firefox: connection closed: %w", err)
	}
	f.seq++
	id := f.seq
	ch := make(chan bidiReply, 1)
	f.waiting[id] = ch
	f.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := f.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		f.forget(id)
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("firefox: %s: connection closed: %v", method, f.err)
		}
		if r.Type == "error" {
			return nil, fmt.Errorf("firefox: %s: %s: %s", method, r.Error, r.Message)
		}
		return r.Result, nil
	case <-ctx.Done():
		f.forget(id)
		return nil, fmt.Errorf("firefox: %s: %w", method, ctx.Err())
	}
}

func (f *firefox) forget(id int) {
	f.mu.Lock()
	delete(f.waiting, id)
	f.mu.Unlock()
}

func (f *firefox) newTab() (tabDriver, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	f.mu.Lock()
	c := f.initial
	f.initial = ""
	f.mu.Unlock()
	if c == "" {
		raw, err := f.call(ctx, "browsingContext.create", map[string]any{"type": "tab"})
		if err != nil {
			return nil, err
		}
		var r struct{ Context string }
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		c = r.Context
	}
	return &firefoxTab{f: f, context: c}, nil
}

func (f *firefox) close() {
	if f.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		f.call(ctx, "browser.close", map[string]any{})
		cancel()
		f.conn.Close(websocket.StatusNormalClosure, "")
	}
	f.kill()
}

// kill ends Firefox and the processes it started (its process group).
func (f *firefox) kill() {
	if f.cmd.Process == nil {
		return
	}
	exited := make(chan struct{})
	go func() { f.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
		return
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

type firefoxTab struct {
	f       *firefox
	context string
}

func (t *firefoxTab) attach(tab *Tab) {
	t.f.mu.Lock()
	t.f.tabs[t.context] = tab
	t.f.mu.Unlock()
}

func (t *firefoxTab) navigate(ctx context.Context, url string) error {
	_, err := t.f.call(ctx, "browsingContext.navigate", map[string]any{"context": t.context, "url": url, "wait": "complete"})
	return err
}

func (t *firefoxTab) reload(ctx context.Context) error {
	_, err := t.f.call(ctx, "browsingContext.reload", map[string]any{"context": t.context, "wait": "complete"})
	return err
}

func (t *firefoxTab) eval(ctx context.Context, expr string) ([]byte, error) {
	// The value crosses as JSON text: BiDi's own serialization of values
	// is not JSON.
	wrapped := "Promise.resolve((" + expr + "\n)).then((v) => v === undefined ? undefined : JSON.stringify(v))"
	raw, err := t.f.call(ctx, "script.evaluate", map[string]any{
		"expression": wrapped, "target": map[string]any{"context": t.context}, "awaitPromise": true, "resultOwnership": "none",
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Type   string
		Result struct {
			Type  string
			Value json.RawMessage
		}
		ExceptionDetails struct {
			Text string
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if r.Type == "exception" {
		return nil, errors.New("firefox: " + r.ExceptionDetails.Text)
	}
	if r.Result.Type != "string" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(r.Result.Value, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func (t *firefoxTab) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	t.f.mu.Lock()
	delete(t.f.tabs, t.context)
	t.f.mu.Unlock()
	_, err := t.f.call(ctx, "browsingContext.close", map[string]any{"context": t.context})
	return err
}
