package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/larderdb/larder/edge/auth"
)

func init() {
	register(&command{name: "edge token", args: "--sub USER [--secret S] [--aud A] [--iss I] [--ttl 1h]",
		short: "mint an HS256 bearer token for a local edge Worker (JWT_SECRET)", run: edgeToken})
}

// edgeToken prints a JWT for the edge Worker's HS256 mode, signed with the
// Worker's JWT_SECRET: for local runs (`make edge`) and scripts, not for
// production users, whose tokens come from an identity provider.
func edgeToken(ctx context.Context, e *env, args []string) error {
	fs := flagsFor(e, "edge token")
	secret := fs.String("secret", "", "the Worker's JWT_SECRET, at least 32 bytes (default: $JWT_SECRET)")
	sub := fs.String("sub", "", "the user (`sub` claim): backups are kept per user")
	aud := fs.String("aud", "", "the audience (`aud`), when the Worker sets JWT_AUDIENCE")
	iss := fs.String("iss", "", "the issuer (`iss`), when the Worker sets JWT_ISSUER")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid (`exp`)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = os.Getenv("JWT_SECRET")
	}
	switch {
	case *sub == "":
		return usagef("--sub is required")
	case *secret == "":
		return usagef("--secret (or $JWT_SECRET) is required")
	case *ttl <= 0:
		return usagef("--ttl must be positive")
	}
	now := time.Now()
	claims := auth.Claims{Subject: *sub, Issuer: *iss, IssuedAt: auth.NumericDate(now.Unix()), ExpiresAt: auth.NumericDate(now.Add(*ttl).Unix())}
	if *aud != "" {
		claims.Audience = auth.Audience{*aud}
	}
	tok, err := auth.SignHS256([]byte(*secret), claims)
	if err != nil {
		return fmt.Errorf("edge token: %w", err)
	}
	fmt.Fprintln(e.stdout, tok)
	return nil
}
