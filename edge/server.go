package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/syncer"
)

// defaultMaxBackup bounds an upload: the Worker holds it in memory (128 MB
// per isolate) before handing it to R2. BACKUP_MAX_BYTES overrides it.
const defaultMaxBackup = 32 << 20

// server is the Worker's HTTP API. One is built per Go instance, that is
// per request in a Worker.
type server struct {
	migs     []*migrations.Migration
	bundleID string
	env      environment
	mux      *http.ServeMux
	// syncCfg is the embedded sync.toml (nil: this Worker does not sync);
	// syncID identifies its text.
	syncCfg *syncer.Config
	syncID  string
}

// newServer parses the embedded bundle; a bad bundle is a build error, so
// it fails every request loudly rather than serving half a schema.
func newServer(bundle, syncTOML []byte, env environment) (*server, error) {
	migs, err := migrations.ParseBundle(bundle)
	if err != nil {
		return nil, err
	}
	cfg, syncID, err := parseSyncConfig(syncTOML)
	if err != nil {
		return nil, fmt.Errorf("embedded sync.toml: %w", err)
	}
	sum := sha256.Sum256(bundle)
	s := &server{migs: migs, bundleID: hex.EncodeToString(sum[:16]), env: env, mux: http.NewServeMux(), syncCfg: cfg, syncID: syncID}
	s.mux.HandleFunc("GET /api/migrations", s.status)
	s.mux.HandleFunc("GET /api/backups", s.listBackups)
	s.mux.HandleFunc("PUT /api/backup/{name}", s.putBackup)
	s.mux.HandleFunc("GET /api/backup/{name}", s.getBackup)
	s.mux.HandleFunc("HEAD /api/backup/{name}", s.getBackup)
	s.mux.HandleFunc("POST "+syncer.RouteHello, s.syncRoute)
	s.mux.HandleFunc("POST "+syncer.RoutePush, s.syncRoute)
	s.mux.HandleFunc("POST "+syncer.RoutePull, s.syncRoute)
	return s, nil
}

// ServeHTTP answers CORS preflights, then authenticates (every other
// request, before anything touches D1 or R2), then brings D1 up to date
// once per isolate, then routes. A failed migration is logged, reported by
// GET /api/migrations (header Larder-Migration-Error) and by 503 on routes
// that need the schema, and retried after a backoff; the backup routes,
// which only touch R2, keep working.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) {
		return
	}
	r, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	migErr := s.migrate(r.Context(), w)
	if migErr != nil {
		w.Header().Set("Larder-Migration-Error", errorCode(migErr))
		r = r.WithContext(context.WithValue(r.Context(), migErrKey{}, migErr))
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		if migErr != nil {
			setRetryAfter(w, migErr)
			writeError(w, http.StatusServiceUnavailable, migErr)
			return
		}
		writeJSONError(w, http.StatusNotFound, "LARDER_NOT_FOUND", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// migErrKey is the request context key of this isolate's migration
// failure, for routes that need the schema.
type migErrKey struct{}

// migrateErr is the migration failure ServeHTTP saw for r, or nil.
func (s *server) migrateErr(r *http.Request) error {
	err, _ := r.Context().Value(migErrKey{}).(error)
	return err
}

// status is GET /api/migrations: the same JSON as `larder migrate status
// --json`.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	p, err := s.provider()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	st, err := p.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// errorBody is every error response: {"error": {code, message, migration?}}.
type errorBody struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Migration *migrationName `json:"migration,omitempty"`
	} `json:"error"`
}

type migrationName struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
}

func writeJSONError(w http.ResponseWriter, code int, larderCode, msg string, mig *migrationName) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Migration = larderCode, msg, mig
	writeJSON(w, code, b)
}

// errorCode is the LARDER_* code of err (LARDER_ERROR when it has none).
func errorCode(err error) string {
	var re *rememberedError
	if errors.As(err, &re) {
		return re.Code
	}
	if c := migrations.Code(err); c != "" {
		return c
	}
	return "LARDER_ERROR"
}

func writeError(w http.ResponseWriter, code int, err error) {
	var mig *migrationName
	var me *migrations.MigrationError
	var re *rememberedError
	if errors.As(err, &me) {
		mig = &migrationName{Version: me.Version, Name: me.Name}
	} else if errors.As(err, &re) && re.Version != 0 {
		mig = &migrationName{Version: re.Version, Name: re.Name}
	}
	writeJSONError(w, code, errorCode(err), err.Error(), mig)
}
