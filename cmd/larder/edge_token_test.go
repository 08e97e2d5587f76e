package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/edge/auth"
)

func TestEdgeToken(t *testing.T) {
	const secret = "a-dev-secret-of-at-least-32-bytes!!"
	r := larder(t, "edge", "token", "--secret", secret, "--sub", "alice", "--aud", "app", "--iss", "https://dev.local/", "--ttl", "10m")
	r.want(t, 0)
	cfg := auth.Config{Secret: []byte(secret), Issuer: "https://dev.local/", Audiences: []string{"app"}}
	c, err := auth.NewVerifier(cfg, nil, nil).Verify(context.Background(), strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatalf("the Worker's verifier refuses the minted token: %v", err)
	}
	if left := time.Until(time.Unix(int64(c.ExpiresAt), 0)); c.Subject != "alice" || left > 10*time.Minute || left < 9*time.Minute {
		t.Errorf("claims %+v (expires in %v)", c, left)
	}
	larder(t, "edge", "token", "--secret", secret).want(t, 2, "--sub is required")
	larder(t, "edge", "token", "--secret", "short", "--sub", "a").want(t, 1, "at least 32")
}
