package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/d1"
)

// Isolate state keys.
const (
	migratedKey     = "migrated"      // the bundle id D1 was brought up to
	migrateRetryKey = "migrate-retry" // a retryState
)

// Retry schedule of a failing migration, per isolate: the first retry
// after retryBase, doubling up to retryMax.
const (
	retryBase = time.Second
	retryMax  = 5 * time.Minute
)

// retryState remembers, per isolate, a migration failure and when to try
// again; requests before then get the remembered error without touching D1.
type retryState struct {
	Bundle   string `json:"bundle"`
	Failures int    `json:"failures"`
	Next     int64  `json:"next"` // Unix ms
	Code     string `json:"code"`
	Message  string `json:"message"`
	Version  int64  `json:"version,omitempty"`
	Name     string `json:"name,omitempty"`
}

// rememberedError is a migration failure replayed from retryState.
type rememberedError struct{ retryState }

func (e *rememberedError) Error() string { return e.Message }

// retryAfter is how long until the next attempt, for Retry-After.
func retryAfter(err error) (time.Duration, bool) {
	var re *rememberedError
	if errors.As(err, &re) {
		return max(time.Until(time.UnixMilli(re.Next)), time.Second), true
	}
	return 0, false
}

// migrate applies pending migrations unless this isolate already did for
// this bundle. When D1 is current it costs one round trip (the tracking
// table's CREATE IF NOT EXISTS and SELECT in one batch). A failure is
// retried on a request after the backoff, not on every request.
func (s *server) migrate(ctx context.Context, w http.ResponseWriter) error {
	st := s.env.Isolate()
	if st.Get(migratedKey) == s.bundleID {
		return nil
	}
	var rs retryState
	if b := st.Get(migrateRetryKey); b != "" && json.Unmarshal([]byte(b), &rs) == nil && rs.Bundle == s.bundleID {
		if time.Now().UnixMilli() < rs.Next {
			return &rememberedError{rs}
		}
	} else {
		rs = retryState{Bundle: s.bundleID}
	}
	err := s.up(ctx, w)
	if err == nil {
		st.Set(migratedKey, s.bundleID)
		st.Set(migrateRetryKey, "")
		return nil
	}
	rs.Failures++
	wait := retryMax
	if rs.Failures < 20 {
		wait = min(retryBase<<(rs.Failures-1), retryMax)
	}
	rs.Next = time.Now().Add(wait).UnixMilli()
	rs.Code, rs.Message, rs.Version, rs.Name = errorCode(err), err.Error(), 0, ""
	var me *migrations.MigrationError
	if errors.As(err, &me) {
		rs.Version, rs.Name = me.Version, me.Name
	}
	b, _ := json.Marshal(rs)
	st.Set(migrateRetryKey, string(b))
	log.Printf("larder: migration failed (%d in a row), next try in %v: %v", rs.Failures, wait, err)
	return err
}

// up runs the provider once and reports it in Larder-Migrate.
func (s *server) up(ctx context.Context, w http.ResponseWriter) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx, 0)
	applied, skipped := 0, 0
	for _, r := range res {
		if r.Skipped {
			skipped++
		} else {
			applied++
			log.Printf("larder: applied %s in %d ms", r.Migration.Label(), r.Record.DurationMS)
		}
	}
	w.Header().Set("Larder-Migrate", fmt.Sprintf("applied=%d skipped=%d", applied, skipped))
	return err
}

func (s *server) provider() (*migrations.Provider, error) {
	conn, err := s.env.DB()
	if err != nil {
		return nil, err
	}
	return migrations.NewProvider(d1.NewStore(conn), s.migs, migrations.Options{})
}

// setRetryAfter adds Retry-After to a 503 caused by a remembered failure.
func setRetryAfter(w http.ResponseWriter, err error) {
	if d, ok := retryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}
