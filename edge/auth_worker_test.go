//go:build !js && workerd

package main

// The auth rules, run in workerd: no configuration means 401 on every
// route before anything touches D1; bad tokens are refused; RS256 and
// ES256 keys come from a JWKS this test serves on 127.0.0.1 (miniflare lets
// the Worker fetch private addresses), cached per isolate.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larderdb/larder/edge/auth"
)

const (
	testSecret   = "test-secret-0123456789abcdef-0123456789"
	testIssuer   = "https://issuer.larder.test/"
	testAudience = "larder-edge-test"
)

// authVars configure HS256 with testSecret, issuer and audience.
var authVars = []string{"JWT_SECRET=" + testSecret, "JWT_ISSUER=" + testIssuer, "JWT_AUDIENCE=" + testAudience}

// claimsFor are valid claims for sub, changed by mod (nil deletes).
func claimsFor(sub string, mod map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"sub": sub, "iss": testIssuer, "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range mod {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// tokenFor is an HS256 token for sub signed with testSecret.
func tokenFor(t testing.TB, sub string, mod map[string]any) string {
	t.Helper()
	tok, err := auth.SignHS256([]byte(testSecret), claimsFor(sub, mod))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signJWT signs claims with an RSA or EC private key (RS256, ES256) or
// leaves it unsigned (alg none), with header fields hdr.
func signJWT(t *testing.T, hdr, claims map[string]any, key crypto.Signer) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(hdr)
	c, _ := json.Marshal(claims)
	signed := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signed))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		s, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = s
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
	return signed + "." + enc.EncodeToString(sig)
}

// startAuthedWorker starts a Worker with authVars and a token for alice.
func startAuthedWorker(t *testing.T, build, state string, isolates int, vars ...string) *worker {
	t.Helper()
	w := startWorker(t, build, state, isolates, append(append([]string{}, authVars...), vars...)...)
	w.Token = tokenFor(t, "alice", nil)
	return w
}

// dataRoutes are every route of the Worker, and one it does not have.
var dataRoutes = []struct{ method, path string }{
	{"GET", "/api/migrations"},
	{"GET", "/api/backups"},
	{"PUT", "/api/backup/notes"},
	{"GET", "/api/backup/notes"},
	{"HEAD", "/api/backup/notes"},
	{"POST", "/sync/hello"},
	{"POST", "/sync/push"},
	{"POST", "/sync/pull"},
	{"GET", "/api/notes"},
	{"GET", "/favicon.ico"},
}

func TestWorkerWithoutAuthRefusesEverything(t *testing.T) {
	state := t.TempDir()
	// BACKUP_TOKEN, the old shared token, opens nothing either.
	w := startWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), state, 1, "BACKUP_TOKEN=s3cret", "CORS_ORIGINS=https://app.example")
	img := realImage(t)
	for _, tok := range []string{"", "s3cret", tokenFor(t, "alice", nil)} {
		w.Token = tok
		for _, rt := range dataRoutes {
			r := w.do(t, rt.method, rt.path, "", img, "If-None-Match", "*", "Origin", "https://app.example")
			if r.Status != http.StatusUnauthorized || r.Header.Get("Larder-Migrate") != "" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with token %.10q: %d, Larder-Migrate %q, want 401 before migrations", rt.method, rt.path, tok, r.Status, r.Header.Get("Larder-Migrate"))
			}
			if rt.method != "HEAD" {
				var e errorBody
				r.JSON(t, &e)
				if e.Error.Code != "LARDER_UNAUTHORIZED" || !strings.Contains(e.Error.Message, "JWT_SECRET") || !strings.Contains(e.Error.Message, "BACKUP_TOKEN") {
					t.Errorf("%s %s: %s", rt.method, rt.path, r.Body)
				}
			}
		}
	}
	w.stop(t)
	// No request reached D1: miniflare never even created its file.
	var files []string
	filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sqlite") && strings.Contains(p, "d1") {
			files = append(files, p)
		}
		return nil
	})
	for _, f := range files {
		if !strings.Contains(filepath.Base(f), "metadata") {
			t.Errorf("unauthenticated requests touched D1: %s exists", f)
		}
	}
}

func TestWorkerRefusesBadTokens(t *testing.T) {
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), t.TempDir(), 1)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	good := tokenFor(t, "alice", nil)
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"missing":          "",
		"expired":          tokenFor(t, "alice", map[string]any{"exp": now.Add(-10 * time.Minute).Unix()}),
		"no exp":           tokenFor(t, "alice", map[string]any{"exp": nil}),
		"not yet valid":    tokenFor(t, "alice", map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}),
		"wrong audience":   tokenFor(t, "alice", map[string]any{"aud": "another-app"}),
		"wrong issuer":     tokenFor(t, "alice", map[string]any{"iss": "https://evil.example/"}),
		"no sub":           tokenFor(t, "alice", map[string]any{"sub": nil}),
		"wrong signature":  parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"other secret":     mustSign(t, []byte("another-secret-0123456789abcdef-01234"), claimsFor("alice", nil)),
		"alg none":         signJWT(t, map[string]any{"alg": "none", "typ": "JWT"}, claimsFor("alice", nil), nil),
		"alg none, no sig": base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"ES256 no JWKS":    signJWT(t, map[string]any{"alg": "ES256", "kid": "k"}, claimsFor("alice", nil), ecKey),
		"not a JWT":        "hello",
	} {
		w.Token = tok
		r := w.do(t, "GET", "/api/backups", "", nil)
		var e errorBody
		r.JSON(t, &e)
		if r.Status != http.StatusUnauthorized || e.Error.Code != "LARDER_UNAUTHORIZED" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		} else {
			t.Logf("%s: %s", name, e.Error.Message)
		}
	}
	w.Token = good
	if r := w.do(t, "GET", "/api/backups", "", nil); r.Status != 200 {
		t.Errorf("good token: %d %s", r.Status, r.Body)
	}
	// This Worker embeds the placeholder sync.toml: it does not sync, and
	// says how to make it.
	r := w.do(t, "POST", "/sync/pull", "", []byte(`{"hello":{"version":1,"breaking":0},"cursor":0}`))
	var e errorBody
	if r.JSON(t, &e); r.Status != 404 || e.Error.Code != "LARDER_SYNC_OFF" || !strings.Contains(e.Error.Message, "sync.toml") {
		t.Errorf("sync without sync.toml: %d %s", r.Status, r.Body)
	}
	// Basic auth or a bare token are not bearer tokens.
	w.Token = ""
	if r := w.do(t, "GET", "/api/backups", "", nil, "Authorization", good); r.Status != 401 {
		t.Errorf("bare token: %d", r.Status)
	}
}

func mustSign(t *testing.T, secret []byte, claims map[string]any) string {
	t.Helper()
	tok, err := auth.SignHS256(secret, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwksServer serves a JWKS on 127.0.0.1 and counts the fetches.
type jwksServer struct {
	URL  string
	hits atomic.Int64
	mu   sync.Mutex
	keys map[string]crypto.PublicKey
}

func serveJWKS(t *testing.T, keys map[string]crypto.PublicKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		var out []map[string]string
		b64 := base64.RawURLEncoding.EncodeToString
		for kid, k := range s.keys {
			switch k := k.(type) {
			case *rsa.PublicKey:
				out = append(out, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64([]byte{1, 0, 1})})
			case *ecdsa.PublicKey:
				pub, _ := k.Bytes()
				out = append(out, map[string]string{"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])})
			}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": out})
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.URL = "http://" + ln.Addr().String() + "/.well-known/jwks.json"
	return s
}

func (s *jwksServer) add(kid string, k crypto.PublicKey) {
	s.mu.Lock()
	s.keys[kid] = k
	s.mu.Unlock()
}

func TestWorkerJWKS(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rotated, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := serveJWKS(t, map[string]crypto.PublicKey{"r1": &rsaKey.PublicKey, "e1": &ecKey.PublicKey})
	build := buildWorker(t, bundleOf(t, appMigrations, ""))
	vars := []string{"JWT_JWKS_URL=" + jwks.URL, "JWT_ISSUER=" + testIssuer, "JWT_AUDIENCE=other-app, " + testAudience}
	// A cooldown of an hour: within this test an unknown kid never refetches.
	w := startWorker(t, build, t.TempDir(), 1, append(vars, "JWT_JWKS_REFETCH_SECONDS=3600")...)
	try := func(name, tok string, want int) {
		t.Helper()
		w.Token = tok
		r := w.do(t, "GET", "/api/backups", "", nil)
		if r.Status != want {
			t.Errorf("%s: %d %s, want %d", name, r.Status, r.Body, want)
		}
	}
	rs := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "r1"}
	es := map[string]any{"alg": "ES256", "typ": "JWT", "kid": "e1"}
	try("RS256", signJWT(t, rs, claimsFor("alice", nil), rsaKey), 200)
	try("ES256", signJWT(t, es, claimsFor("bob", nil), ecKey), 200)
	try("ES256 again", signJWT(t, es, claimsFor("bob", nil), ecKey), 200)
	if n := jwks.hits.Load(); n != 1 {
		t.Errorf("%d JWKS fetches for three tokens, want 1 (cached in the isolate)", n)
	}
	try("ES256, wrong key", signJWT(t, es, claimsFor("bob", nil), rotated), 401)
	try("RS256 header on the EC key", signJWT(t, map[string]any{"alg": "RS256", "kid": "e1"}, claimsFor("bob", nil), ecKey), 401)
	try("ES256 expired", signJWT(t, es, claimsFor("bob", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), ecKey), 401)
	try("ES256 wrong audience", signJWT(t, es, claimsFor("bob", map[string]any{"aud": "x"}), ecKey), 401)
	try("ES256 wrong issuer", signJWT(t, es, claimsFor("bob", map[string]any{"iss": "https://x.example/"}), ecKey), 401)
	try("HS256 without a secret", tokenFor(t, "alice", nil), 401)
	try("alg none", signJWT(t, map[string]any{"alg": "none", "kid": "r1"}, claimsFor("alice", nil), nil), 401)
	for i := range 3 {
		try("unknown kid", signJWT(t, map[string]any{"alg": "ES256", "kid": "made-up-" + string(rune('a'+i))}, claimsFor("bob", nil), ecKey), 401)
	}
	if n := jwks.hits.Load(); n != 1 {
		t.Errorf("%d JWKS fetches after unknown kids within the cooldown, want still 1", n)
	}
	w.stop(t)

	// With no cooldown, a new kid (the provider rotated its keys) is
	// fetched at once.
	jwks.add("e2", &rotated.PublicKey)
	w = startWorker(t, build, t.TempDir(), 1, append(vars, "JWT_JWKS_REFETCH_SECONDS=0")...)
	before := jwks.hits.Load()
	try("ES256 e1", signJWT(t, es, claimsFor("bob", nil), ecKey), 200)
	jwks.add("e3", &rotated.PublicKey)
	try("ES256 rotated to e3", signJWT(t, map[string]any{"alg": "ES256", "kid": "e3"}, claimsFor("bob", nil), rotated), 200)
	if n := jwks.hits.Load() - before; n != 2 {
		t.Errorf("%d JWKS fetches for a known kid then a rotated one, want 2", n)
	}

	// A JWKS URL without an issuer or audience is refused as misconfigured.
	w.stop(t)
	w = startWorker(t, build, t.TempDir(), 1, "JWT_JWKS_URL="+jwks.URL)
	w.Token = signJWT(t, es, claimsFor("bob", nil), ecKey)
	r := w.do(t, "GET", "/api/backups", "", nil)
	var e errorBody
	r.JSON(t, &e)
	if r.Status != 500 || e.Error.Code != "LARDER_AUTH_MISCONFIGURED" || !strings.Contains(e.Error.Message, "JWT_AUDIENCE") {
		t.Errorf("JWKS without issuer and audience: %d %s", r.Status, r.Body)
	}
}

func TestWorkerCORSListedOriginsOnly(t *testing.T) {
	w := startAuthedWorker(t, buildWorker(t, bundleOf(t, appMigrations, "")), t.TempDir(), 1,
		"CORS_ORIGINS=https://app.example, *, https://*.example, https://other.example/")
	for _, c := range []struct {
		origin string
		want   string
	}{
		{"https://app.example", "https://app.example"},
		{"https://evil.example", ""},
		{"https://other.example", ""}, // listed with a path: ignored
		{"null", ""},
	} {
		pre := w.do(t, "OPTIONS", "/api/backup/notes", "", nil, "Origin", c.origin,
			"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization, if-match")
		got := w.do(t, "GET", "/api/backups", "", nil, "Origin", c.origin)
		for what, r := range map[string]response{"preflight": pre, "GET": got} {
			if a := r.Header.Get("Access-Control-Allow-Origin"); a != c.want {
				t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want %q", what, c.origin, a, c.want)
			}
			if r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s from %s allows credentials", what, c.origin)
			}
		}
		if c.want != "" && (pre.Status != 204 || !strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "if-match")) {
			t.Errorf("preflight from %s: %d %v", c.origin, pre.Status, pre.Header)
		}
		if c.want == "" && pre.Status == 204 {
			t.Errorf("preflight from %s answered", c.origin)
		}
		// The sync routes take POST with a JSON body.
		sync := w.do(t, "OPTIONS", "/sync/push", "", nil, "Origin", c.origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
		if c.want != "" && (sync.Status != 204 || !strings.Contains(sync.Header.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(sync.Header.Get("Access-Control-Allow-Headers")), "content-type")) {
			t.Errorf("sync preflight from %s: %d %v", c.origin, sync.Status, sync.Header)
		}
	}
}
