// Package auth verifies the bearer JSON Web Tokens (RFC 7519) that Larder's
// edge Worker requires on every data route, and mints HS256 tokens for local
// runs (`larder edge token`).
//
// A token is accepted when its signature verifies with a configured key and
// its claims hold: HS256 (RFC 7518 §3.2) against a shared secret, or RS256
// and ES256 (§3.3, §3.4) against the public keys of a JWKS document (RFC
// 7517) fetched from a URL and cached per isolate; `exp` is required, `nbf`
// is honoured, both with a small clock skew; `iss` and `aud` must match the
// configuration; `sub` is required and names the user. Every other algorithm,
// `none` included, is refused. Only the Go standard library is used
// (crypto/hmac, crypto/rsa, crypto/ecdsa), so the package builds for
// GOOS=js and adds little to the Worker.
package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Skew is the clock difference tolerated on `exp` and `nbf`.
const Skew = 60 * time.Second

// maxToken bounds the bearer token read from a request.
const maxToken = 8 << 10

// ErrUnauthorized wraps every reason a token is refused.
var ErrUnauthorized = errors.New("unauthorized")

// ErrNotConfigured is returned by LoadConfig when no key is configured: the
// Worker then refuses every data route.
var ErrNotConfigured = errors.New("no authentication configured: set the JWT_SECRET secret (HS256) or JWT_JWKS_URL with JWT_ISSUER and JWT_AUDIENCE (RS256/ES256)")

// Config is where tokens are verified against, read from the Worker's
// variables by LoadConfig.
type Config struct {
	// Secret is the HS256 key (JWT_SECRET); empty disables HS256.
	Secret []byte
	// JWKSURL is where RS256/ES256 public keys are fetched (JWT_JWKS_URL);
	// empty disables them.
	JWKSURL string
	// Issuer, when set, must equal the token's `iss` (JWT_ISSUER).
	Issuer string
	// Audiences, when set, must contain one of the token's `aud` values
	// (JWT_AUDIENCE, comma-separated).
	Audiences []string
	// TTL is how long fetched JWKS keys are used (JWT_JWKS_TTL_SECONDS,
	// default one hour); Cooldown is the least time between two fetches
	// caused by an unknown kid (JWT_JWKS_REFETCH_SECONDS, default 60 s).
	TTL, Cooldown time.Duration
}

// minSecret is the shortest HS256 secret accepted: 256 bits.
const minSecret = 32

// LoadConfig reads the configuration from getenv. It returns
// ErrNotConfigured when neither JWT_SECRET nor JWT_JWKS_URL is set, and an
// error naming the variable for a configuration that would be unsafe
// (a short secret, a JWKS URL that is not https or local, a JWKS without
// JWT_ISSUER and JWT_AUDIENCE).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Secret:   []byte(getenv("JWT_SECRET")),
		JWKSURL:  strings.TrimSpace(getenv("JWT_JWKS_URL")),
		Issuer:   strings.TrimSpace(getenv("JWT_ISSUER")),
		TTL:      time.Hour,
		Cooldown: time.Minute,
	}
	for _, a := range strings.Split(getenv("JWT_AUDIENCE"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Audiences = append(c.Audiences, a)
		}
	}
	if len(c.Secret) == 0 && c.JWKSURL == "" {
		return c, ErrNotConfigured
	}
	if len(c.Secret) > 0 && len(c.Secret) < minSecret {
		return c, fmt.Errorf("auth: JWT_SECRET is %d bytes; use at least %d (e.g. `openssl rand -hex 32`)", len(c.Secret), minSecret)
	}
	if c.JWKSURL != "" {
		if !strings.HasPrefix(c.JWKSURL, "https://") && !isLocalURL(c.JWKSURL) {
			return c, fmt.Errorf("auth: JWT_JWKS_URL %q must be an https:// URL", c.JWKSURL)
		}
		if c.Issuer == "" || len(c.Audiences) == 0 {
			return c, errors.New("auth: JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: a provider's keys sign tokens for every app and tenant it serves")
		}
	}
	for name, d := range map[string]*time.Duration{"JWT_JWKS_TTL_SECONDS": &c.TTL, "JWT_JWKS_REFETCH_SECONDS": &c.Cooldown} {
		if v := getenv(name); v != "" {
			var n int64
			if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != v {
				return c, fmt.Errorf("auth: %s %q is not a whole number of seconds", name, v)
			}
			*d = time.Duration(n) * time.Second
		}
	}
	return c, nil
}

// isLocalURL reports whether u is plain http to this machine, which local
// runs and tests use for their JWKS.
func isLocalURL(u string) bool {
	for _, p := range []string{"http://127.0.0.1:", "http://localhost:", "http://[::1]:"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// Claims are the registered claims of an accepted token.
type Claims struct {
	Subject   string      `json:"sub"`
	Issuer    string      `json:"iss,omitempty"`
	Audience  Audience    `json:"aud,omitempty"`
	ExpiresAt NumericDate `json:"exp"`
	NotBefore NumericDate `json:"nbf,omitempty"`
	IssuedAt  NumericDate `json:"iat,omitempty"`
}

// NumericDate is seconds since the Unix epoch; JSON may carry a fraction
// (RFC 7519 §2), which is dropped.
type NumericDate int64

// UnmarshalJSON accepts any JSON number.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("a date claim is not a number")
	}
	if f < 0 || f > 1<<53 {
		return errors.New("a date claim is out of range")
	}
	*d = NumericDate(f)
	return nil
}

func (d NumericDate) time() time.Time { return time.Unix(int64(d), 0) }

// Audience is `aud`: one string or an array of them (RFC 7519 §4.1.3).
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(b, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = l
	return nil
}

// MarshalJSON writes a single audience as a string.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// Keys finds the public key a JWKS publishes under kid; KeyCache is the
// implementation the Worker uses.
type Keys interface {
	Key(ctx context.Context, kid string) (crypto.PublicKey, error)
}

// Verifier checks tokens against a Config.
type Verifier struct {
	cfg  Config
	keys Keys
	now  func() time.Time
}

// NewVerifier returns a Verifier; keys serves cfg.JWKSURL's keys and may be
// nil when no JWKS is configured.
func NewVerifier(cfg Config, keys Keys, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{cfg: cfg, keys: keys, now: now}
}

// BearerToken returns the token of an `Authorization: Bearer <token>`
// header value.
func BearerToken(header string) (string, error) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" {
		return "", fmt.Errorf("%w: no Authorization header (want Authorization: Bearer <JWT>)", ErrUnauthorized)
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: the Authorization header is not a Bearer token", ErrUnauthorized)
	}
	return strings.TrimSpace(tok), nil
}

type header struct {
	Alg  string `json:"alg"`
	Kid  string `json:"kid"`
	Typ  string `json:"typ"`
	Crit any    `json:"crit"`
}

// Verify checks token's signature and claims and returns the claims. Every
// refusal wraps ErrUnauthorized and says why.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	fail := func(format string, args ...any) (*Claims, error) {
		return nil, fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
	}
	if len(token) > maxToken {
		return fail("token longer than %d bytes", maxToken)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fail("not a JWT (want three base64url parts separated by '.')")
	}
	var h header
	if err := decodePart(parts[0], &h); err != nil {
		return fail("token header: %v", err)
	}
	if h.Crit != nil {
		return fail("token header has crit extensions, which are not supported")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fail("signature is not base64url: %v", err)
	}
	signed := []byte(parts[0] + "." + parts[1])
	switch h.Alg {
	case "HS256":
		if len(v.cfg.Secret) == 0 {
			return fail("alg HS256 but no JWT_SECRET is configured")
		}
		m := hmac.New(sha256.New, v.cfg.Secret)
		m.Write(signed)
		if !hmac.Equal(m.Sum(nil), sig) {
			return fail("bad signature")
		}
	case "RS256", "ES256":
		if v.cfg.JWKSURL == "" || v.keys == nil {
			return fail("alg %s but no JWT_JWKS_URL is configured", h.Alg)
		}
		key, err := v.keys.Key(ctx, h.Kid)
		if err != nil {
			return fail("%v", err)
		}
		if err := verifyAsym(h.Alg, key, signed, sig); err != nil {
			return fail("%v", err)
		}
	default:
		return fail("alg %q is not accepted (HS256, RS256 or ES256)", h.Alg)
	}
	var c Claims
	if err := decodePart(parts[1], &c); err != nil {
		return fail("token claims: %v", err)
	}
	return v.checkClaims(&c)
}

func (v *Verifier) checkClaims(c *Claims) (*Claims, error) {
	now := v.now()
	switch {
	case c.ExpiresAt == 0:
		return nil, fmt.Errorf("%w: token has no exp", ErrUnauthorized)
	case now.After(c.ExpiresAt.time().Add(Skew)):
		return nil, fmt.Errorf("%w: token expired at %s", ErrUnauthorized, c.ExpiresAt.time().UTC().Format(time.RFC3339))
	case c.NotBefore != 0 && now.Add(Skew).Before(c.NotBefore.time()):
		return nil, fmt.Errorf("%w: token not valid before %s", ErrUnauthorized, c.NotBefore.time().UTC().Format(time.RFC3339))
	case v.cfg.Issuer != "" && c.Issuer != v.cfg.Issuer:
		return nil, fmt.Errorf("%w: token issuer %q is not %q (JWT_ISSUER)", ErrUnauthorized, c.Issuer, v.cfg.Issuer)
	case len(v.cfg.Audiences) > 0 && !anyIn(c.Audience, v.cfg.Audiences):
		return nil, fmt.Errorf("%w: token audience %q is not one of %q (JWT_AUDIENCE)", ErrUnauthorized, []string(c.Audience), v.cfg.Audiences)
	case c.Subject == "":
		return nil, fmt.Errorf("%w: token has no sub", ErrUnauthorized)
	}
	return c, nil
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// verifyAsym checks an RS256 (PKCS #1 v1.5, SHA-256) or ES256 (P-256,
// SHA-256, r||s) signature; the key's type must fit the algorithm.
func verifyAsym(alg string, key crypto.PublicKey, signed, sig []byte) error {
	sum := sha256.Sum256(signed)
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg != "RS256" {
			return fmt.Errorf("alg %s with an RSA key", alg)
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) != nil {
			return errors.New("bad signature")
		}
	case *ecdsa.PublicKey:
		if alg != "ES256" {
			return fmt.Errorf("alg %s with an EC key", alg)
		}
		if len(sig) != 64 {
			return fmt.Errorf("ES256 signature of %d bytes (want 64)", len(sig))
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, sum[:], r, s) {
			return errors.New("bad signature")
		}
	default:
		return fmt.Errorf("unsupported key type %T", key)
	}
	return nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not base64url: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return nil
}
