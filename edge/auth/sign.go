package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// SignHS256 returns a compact JWT of claims signed with secret, for local
// runs and tests (`larder edge token`). Production tokens come from an
// identity provider.
func SignHS256(secret []byte, claims any) (string, error) {
	if len(secret) < minSecret {
		return "", fmt.Errorf("auth: the secret is %d bytes; use at least %d", len(secret), minSecret)
	}
	if claims == nil {
		return "", errors.New("auth: no claims")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("auth: claims: %v", err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(m.Sum(nil)), nil
}
