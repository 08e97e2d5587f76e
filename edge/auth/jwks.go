package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// State is memory that outlives one request. In the Worker each request
// runs a fresh Go instance, so it is a JavaScript global of the isolate.
type State interface {
	Get(key string) string
	Set(key, value string)
}

// KeyCache serves the public keys of the JWKS document at URL (RFC 7517),
// remembered in State: fetched when there is none, again after TTL, and
// again when a token names a kid the cached set lacks (key rotation), but
// never more than once per Cooldown, so tokens with made-up kids cannot
// make the Worker hammer the provider. When a refetch fails, the keys
// already fetched are used.
type KeyCache struct {
	URL           string
	TTL, Cooldown time.Duration
	State         State
	// Fetch returns the body of a GET of url, failing on a status other
	// than 200.
	Fetch func(ctx context.Context, url string) ([]byte, error)
	Now   func() time.Time
}

// stateKey names the cache in State.
const stateKey = "jwks"

type cachedKeys struct {
	URL     string          `json:"url"`
	Fetched int64           `json:"fetched"` // Unix ms of the last good fetch
	Tried   int64           `json:"tried"`   // Unix ms of the last attempt
	Body    json.RawMessage `json:"body,omitempty"`
}

// Key returns the key published under kid (an empty kid matches a set of
// exactly one key).
func (c *KeyCache) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now().UnixMilli()
	var st cachedKeys
	if s := c.State.Get(stateKey); s != "" {
		if json.Unmarshal([]byte(s), &st) != nil || st.URL != c.URL {
			st = cachedKeys{}
		}
	}
	var keys map[string]crypto.PublicKey
	if st.Body != nil {
		keys, _ = parseJWKS(st.Body)
	}
	k, found := lookup(keys, kid)
	fresh := keys != nil && t-st.Fetched < c.TTL.Milliseconds()
	if found && fresh {
		return k, nil
	}
	if st.Tried != 0 && t-st.Tried < c.Cooldown.Milliseconds() {
		if found {
			return k, nil
		}
		if keys == nil {
			return nil, fmt.Errorf("no keys from %s (the last fetch failed; next try in at most %v)", c.URL, c.Cooldown)
		}
		return nil, fmt.Errorf("no key with kid %q in %s (fetched %v ago)", kid, c.URL, time.Duration(t-st.Fetched)*time.Millisecond)
	}
	st.URL, st.Tried = c.URL, t
	body, err := c.Fetch(ctx, c.URL)
	var fetched map[string]crypto.PublicKey
	if err == nil {
		fetched, err = parseJWKS(body)
	}
	if err != nil {
		c.save(st)
		if found {
			return k, nil // stale keys beat no keys while the provider is down
		}
		return nil, fmt.Errorf("fetching the JWKS %s: %v", c.URL, err)
	}
	st.Body, st.Fetched = body, t
	c.save(st)
	if k, ok := lookup(fetched, kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key with kid %q in %s", kid, c.URL)
}

func (c *KeyCache) save(st cachedKeys) {
	b, _ := json.Marshal(st)
	c.State.Set(stateKey, string(b))
}

func lookup(keys map[string]crypto.PublicKey, kid string) (crypto.PublicKey, bool) {
	if kid == "" && len(keys) == 1 {
		for _, k := range keys {
			return k, true
		}
	}
	k, ok := keys[kid]
	return k, ok && kid != ""
}

// jwk is one key of a JWKS (RFC 7517 §4, RFC 7518 §6).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS returns the signing keys of a JWKS by kid: RSA keys of at least
// 2048 bits and P-256 EC keys. Keys for encryption, for other algorithms or
// of other types are skipped; a set with no usable key is an error.
func parseJWKS(b []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("JWKS is not JSON: %v", err)
	}
	out := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if key, err := k.publicKey(); err == nil {
			out[k.Kid] = key
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS has no RS256 or ES256 signing key")
	}
	return out, nil
}

func (k jwk) publicKey() (crypto.PublicKey, error) {
	b64 := base64.RawURLEncoding.DecodeString
	switch {
	case k.Kty == "RSA" && (k.Alg == "" || k.Alg == "RS256"):
		n, err1 := b64(k.N)
		e, err2 := b64(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("weak RSA key")
		}
		return pub, nil
	case k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == "ES256"):
		x, err1 := b64(k.X)
		y, err2 := b64(k.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad EC key")
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	}
	return nil, errors.New("unsupported key")
}
