package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log"
	"net/http"

	"github.com/larderdb/larder/edge/auth"
)

// userKey is the request context key of the authenticated user.
type userKey struct{}

// user is who a request acts for: the verified token's subject.
type user struct {
	Sub string
	// id is hex(sha256(sub)): the user's storage prefix, so that any
	// subject (emails, "auth0|123", URLs) makes a safe, fixed-length key.
	id string
}

// backupPrefix is where the user's current backups live in R2.
func (u user) backupPrefix() string { return "u/" + u.id + "/" }

// versionPrefix is where replaced versions of backup name are kept.
func (u user) versionPrefix(name string) string { return "v/" + u.id + "/" + name + "/" }

func userOf(ctx context.Context) user {
	u, _ := ctx.Value(userKey{}).(user)
	return u
}

// authenticate verifies the request's bearer JWT before anything else
// runs. It answers 401 when no authentication is configured (never open),
// when the token is missing or refused; 500 when the configuration is
// unsafe. On success it returns the request with the user in its context.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	cfg, err := auth.LoadConfig(s.env.Getenv)
	if errors.Is(err, auth.ErrNotConfigured) {
		msg := "this Worker refuses every request: " + err.Error()
		if s.env.Getenv("BACKUP_TOKEN") != "" {
			msg += " (BACKUP_TOKEN, a token shared by every user, is no longer accepted)"
		}
		unauthorized(w, msg)
		return nil, false
	}
	if err != nil {
		log.Printf("larder: %v", err)
		writeJSONError(w, http.StatusInternalServerError, "LARDER_AUTH_MISCONFIGURED", err.Error(), nil)
		return nil, false
	}
	// Cloudflare Access passes its token in Cf-Access-Jwt-Assertion; it is
	// verified like any other.
	h := r.Header.Get("Authorization")
	if h == "" && r.Header.Get("Cf-Access-Jwt-Assertion") != "" {
		h = "Bearer " + r.Header.Get("Cf-Access-Jwt-Assertion")
	}
	tok, err := auth.BearerToken(h)
	if err != nil {
		unauthorized(w, err.Error())
		return nil, false
	}
	var keys auth.Keys
	if cfg.JWKSURL != "" {
		keys = &auth.KeyCache{URL: cfg.JWKSURL, TTL: cfg.TTL, Cooldown: cfg.Cooldown, State: s.env.Isolate(), Fetch: s.env.Fetch}
	}
	claims, err := auth.NewVerifier(cfg, keys, nil).Verify(r.Context(), tok)
	if err != nil {
		unauthorized(w, err.Error())
		return nil, false
	}
	sum := sha256.Sum256([]byte(claims.Subject))
	u := user{Sub: claims.Subject, id: hex.EncodeToString(sum[:])}
	return r.WithContext(context.WithValue(r.Context(), userKey{}, u)), true
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="larder"`)
	writeJSONError(w, http.StatusUnauthorized, "LARDER_UNAUTHORIZED", msg, nil)
}
