package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sign makes a compact JWT with the given header and claims, signed by key
// (an []byte HMAC secret, *rsa.PrivateKey or *ecdsa.PrivateKey) or unsigned.
func sign(t *testing.T, hdr, claims map[string]any, key any) string {
	t.Helper()
	h, _ := json.Marshal(hdr)
	c, _ := json.Marshal(claims)
	signed := b64(h) + "." + b64(c)
	sum := sha256.Sum256([]byte(signed))
	var sig []byte
	switch k := key.(type) {
	case []byte:
		tok, err := SignHS256(k, claims)
		if err != nil {
			t.Fatal(err)
		}
		if hdr["alg"] == "HS256" && hdr["kid"] == nil {
			return tok
		}
		sig = []byte(tok[strings.LastIndexByte(tok, '.')+1:])
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
	return signed + "." + b64(sig)
}

func claims(mod map[string]any) map[string]any {
	c := map[string]any{"sub": "alice", "iss": "https://issuer.example/", "aud": "larder", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	for k, v := range mod {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

type memState map[string]string

func (m memState) Get(k string) string { return m[k] }
func (m memState) Set(k, v string)     { m[k] = v }

func jwksOf(keys map[string]crypto.PublicKey) []byte {
	var out []map[string]string
	for kid, k := range keys {
		switch k := k.(type) {
		case *rsa.PublicKey:
			out = append(out, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64([]byte{1, 0, 1})})
		case *ecdsa.PublicKey:
			out = append(out, map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(k.X.FillBytes(make([]byte, 32))), "y": b64(k.Y.FillBytes(make([]byte, 32)))})
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": out})
	return b
}

func TestVerify(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fetches := 0
	cache := &KeyCache{URL: "https://issuer.example/jwks", TTL: time.Hour, Cooldown: time.Minute, State: memState{},
		Now: func() time.Time { return now },
		Fetch: func(ctx context.Context, url string) ([]byte, error) {
			fetches++
			return jwksOf(map[string]crypto.PublicKey{"r1": &rsaKey.PublicKey, "e1": &ecKey.PublicKey}), nil
		}}
	cfg := Config{Secret: secret, JWKSURL: cache.URL, Issuer: "https://issuer.example/", Audiences: []string{"larder", "other"}}
	v := NewVerifier(cfg, cache, func() time.Time { return now })
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	rs := map[string]any{"alg": "RS256", "kid": "r1"}
	es := map[string]any{"alg": "ES256", "kid": "e1"}
	for _, c := range []struct {
		name string
		tok  string
		want string // "" accepts; else a word of the refusal
	}{
		{"HS256", sign(t, hs, claims(nil), secret), ""},
		{"RS256", sign(t, rs, claims(nil), rsaKey), ""},
		{"ES256", sign(t, es, claims(nil), ecKey), ""},
		{"aud array", sign(t, hs, claims(map[string]any{"aud": []string{"x", "other"}}), secret), ""},
		{"within skew", sign(t, hs, claims(map[string]any{"exp": now.Add(-30 * time.Second).Unix(), "nbf": now.Add(30 * time.Second).Unix()}), secret), ""},
		{"fractional exp", sign(t, hs, claims(map[string]any{"exp": float64(now.Unix()) + 3600.5}), secret), ""},
		{"expired", sign(t, hs, claims(map[string]any{"exp": now.Add(-10 * time.Minute).Unix()}), secret), "expired"},
		{"no exp", sign(t, hs, claims(map[string]any{"exp": nil}), secret), "no exp"},
		{"not yet valid", sign(t, hs, claims(map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}), secret), "not valid before"},
		{"wrong audience", sign(t, hs, claims(map[string]any{"aud": "someone-else"}), secret), "audience"},
		{"no audience", sign(t, hs, claims(map[string]any{"aud": nil}), secret), "audience"},
		{"wrong issuer", sign(t, hs, claims(map[string]any{"iss": "https://evil.example/"}), secret), "issuer"},
		{"no sub", sign(t, hs, claims(map[string]any{"sub": ""}), secret), "no sub"},
		{"wrong secret", sign(t, hs, claims(nil), []byte("another secret of at least 32 bytes")), "bad signature"},
		{"wrong EC key", sign(t, es, claims(nil), otherEC), "bad signature"},
		{"RS256 header on EC kid", sign(t, map[string]any{"alg": "RS256", "kid": "e1"}, claims(nil), ecKey), "EC key"},
		{"unknown kid", sign(t, map[string]any{"alg": "ES256", "kid": "nope"}, claims(nil), ecKey), "kid"},
		{"alg none", sign(t, map[string]any{"alg": "none"}, claims(nil), nil), "none"},
		{"alg HS512", sign(t, map[string]any{"alg": "HS512"}, claims(nil), secret), "HS512"},
		{"tampered claims", func() string {
			tok := sign(t, hs, claims(nil), secret)
			p := strings.Split(tok, ".")
			p[1] = b64([]byte(`{"sub":"bob","exp":9999999999,"aud":"larder","iss":"https://issuer.example/"}`))
			return strings.Join(p, ".")
		}(), "bad signature"},
		{"crit", sign(t, map[string]any{"alg": "HS256", "crit": []string{"x"}, "kid": "k"}, claims(nil), secret), "crit"},
		{"garbage", "abc", "not a JWT"},
	} {
		got, err := v.Verify(context.Background(), c.tok)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want == "" && got.Subject != "alice":
			t.Errorf("%s: sub %q", c.name, got.Subject)
		case c.want != "" && (!errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want a refusal naming %q", c.name, err, c.want)
		}
	}
	// The first asymmetric token fetched the keys; the unknown kid came
	// within the cooldown of that fetch, so it did not fetch again.
	if fetches != 1 {
		t.Errorf("%d JWKS fetches, want 1 (cached; an unknown kid within the cooldown does not refetch)", fetches)
	}
}

func TestKeyCache(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	published := map[string]crypto.PublicKey{"a": &k1.PublicKey}
	clock := now
	fetches, fail := 0, false
	c := &KeyCache{URL: "https://x.example/jwks", TTL: time.Hour, Cooldown: time.Minute, State: memState{},
		Now: func() time.Time { return clock },
		Fetch: func(ctx context.Context, url string) ([]byte, error) {
			fetches++
			if fail {
				return nil, errors.New("HTTP 503")
			}
			return jwksOf(published), nil
		}}
	key := func(kid string) error { _, err := c.Key(context.Background(), kid); return err }
	step := func(name, kid string, wantOK bool, wantFetches int) {
		t.Helper()
		err := key(kid)
		if (err == nil) != wantOK || fetches != wantFetches {
			t.Errorf("%s: err %v, %d fetches; want ok=%v, %d fetches", name, err, fetches, wantOK, wantFetches)
		}
	}
	step("first", "a", true, 1)
	step("cached", "a", true, 1)
	published["b"] = &k2.PublicKey
	step("new kid within the cooldown", "b", false, 1)
	step("again", "zzz", false, 1)
	clock = clock.Add(2 * time.Minute)
	step("new kid after the cooldown refetches", "b", true, 2)
	step("unknown kid right after", "zzz", false, 2)
	clock = clock.Add(2 * time.Hour)
	fail = true
	step("stale keys are used while the provider fails", "a", true, 3)
	step("and not refetched within the cooldown", "a", true, 3)
	clock = clock.Add(2 * time.Minute)
	fail = false
	step("refetched once it answers", "b", true, 4)

	// A different URL does not reuse another's keys.
	c.URL = "https://y.example/jwks"
	step("other URL", "a", true, 5)
}

func TestParseJWKSRefusesWeakAndForeignKeys(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, body := range map[string]string{
		"rsa 1024":  string(jwksOf(map[string]crypto.PublicKey{"s": &small.PublicKey})),
		"P-384":     fmt.Sprintf(`{"keys":[{"kty":"EC","kid":"p","crv":"P-384","x":"%s","y":"%s"}]}`, b64(p384.X.Bytes()), b64(p384.Y.Bytes())),
		"off curve": fmt.Sprintf(`{"keys":[{"kty":"EC","kid":"p","crv":"P-256","x":"%s","y":"%s"}]}`, b64(make([]byte, 32)), b64(make([]byte, 32))),
		"enc key":   `{"keys":[{"kty":"RSA","use":"enc","kid":"e","n":"AQAB","e":"AQAB"}]}`,
		"oct key":   `{"keys":[{"kty":"oct","kid":"o","k":"c2VjcmV0"}]}`,
		"not json":  `<html>`,
	} {
		if keys, err := parseJWKS([]byte(body)); err == nil {
			t.Errorf("%s: accepted %v", name, keys)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if _, err := LoadConfig(env()); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("nothing set: %v", err)
	}
	if _, err := LoadConfig(env("BACKUP_TOKEN", "x")); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("only the old BACKUP_TOKEN: %v", err)
	}
	for name, e := range map[string]func(string) string{
		"short secret":   env("JWT_SECRET", "short"),
		"jwks no iss":    env("JWT_JWKS_URL", "https://a.example/jwks", "JWT_AUDIENCE", "x"),
		"jwks no aud":    env("JWT_JWKS_URL", "https://a.example/jwks", "JWT_ISSUER", "x"),
		"jwks over http": env("JWT_JWKS_URL", "http://a.example/jwks", "JWT_ISSUER", "x", "JWT_AUDIENCE", "y"),
		"bad ttl":        env("JWT_SECRET", string(secret), "JWT_JWKS_TTL_SECONDS", "1h"),
	} {
		if _, err := LoadConfig(e); err == nil || errors.Is(err, ErrNotConfigured) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := LoadConfig(env("JWT_JWKS_URL", "http://127.0.0.1:9/jwks", "JWT_ISSUER", "i", "JWT_AUDIENCE", "a, b", "JWT_JWKS_REFETCH_SECONDS", "0"))
	if err != nil || len(c.Audiences) != 2 || c.Cooldown != 0 || c.TTL != time.Hour {
		t.Errorf("local JWKS: %+v %v", c, err)
	}
}

func TestBearerToken(t *testing.T) {
	if tok, err := BearerToken("Bearer abc.def.ghi"); err != nil || tok != "abc.def.ghi" {
		t.Errorf("%q %v", tok, err)
	}
	for _, h := range []string{"", "Basic dXNlcjpwYXNz", "Bearer", "abc.def.ghi"} {
		if _, err := BearerToken(h); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%q accepted", h)
		}
	}
}
