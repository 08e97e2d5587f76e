package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"

	"github.com/larderdb/larder/edge/d1"
	"github.com/larderdb/larder/migrations"
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
}

// newServer parses the embedded bundle; a bad bundle is a build error, so
// it fails every request loudly rather than serving half a schema.
func newServer(bundle []byte, env environment) (*server, error) {
	migs, err := migrations.ParseBundle(bundle)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(bundle)
	s := &server{migs: migs, bundleID: hex.EncodeToString(sum[:16]), env: env, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /api/migrations", s.status)
	s.mux.HandleFunc("GET /api/backups", s.listBackups)
	s.mux.HandleFunc("PUT /api/backup/{name}", s.putBackup)
	s.mux.HandleFunc("GET /api/backup/{name}", s.getBackup)
	s.mux.HandleFunc("HEAD /api/backup/{name}", s.getBackup)
	return s, nil
}

// ServeHTTP brings D1 up to date once per isolate, then routes. A failed
// migration is logged and reported by GET /api/migrations (header
// Larder-Migration-Error) and by 503 on routes that need the schema; the
// backup routes, which only touch R2, keep working.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) {
		return
	}
	migErr := s.migrate(r.Context(), w)
	if migErr != nil {
		log.Printf("larder: %v", migErr)
		w.Header().Set("Larder-Migration-Error", errorCode(migErr))
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		if migErr != nil {
			writeError(w, http.StatusServiceUnavailable, migErr)
			return
		}
		writeJSONError(w, http.StatusNotFound, "LARDER_NOT_FOUND", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// migrate applies pending migrations unless this isolate already did for
// this bundle. When D1 is current it costs one round trip (the tracking
// table's CREATE IF NOT EXISTS and SELECT in one batch).
func (s *server) migrate(ctx context.Context, w http.ResponseWriter) error {
	if s.env.Migrated() == s.bundleID {
		return nil
	}
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
	if err != nil {
		return err
	}
	s.env.SetMigrated(s.bundleID)
	return nil
}

func (s *server) provider() (*migrations.Provider, error) {
	conn, err := s.env.DB()
	if err != nil {
		return nil, err
	}
	return migrations.NewProvider(d1.NewStore(conn), s.migs, migrations.Options{})
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

func (s *server) maxBackup() int64 {
	if v := s.env.Getenv("BACKUP_MAX_BYTES"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return defaultMaxBackup
}

// authorized checks the optional bearer token BACKUP_TOKEN (a Worker
// secret). Without it the backup routes are open: set it for anything but
// local use.
func (s *server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := s.env.Getenv("BACKUP_TOKEN")
	if tok == "" || r.Header.Get("Authorization") == "Bearer "+tok {
		return true
	}
	writeJSONError(w, http.StatusUnauthorized, "LARDER_UNAUTHORIZED", "backup routes need Authorization: Bearer <BACKUP_TOKEN>", nil)
	return false
}

func (s *server) putBackup(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := checkBackupName(name); err != nil {
		writeJSONError(w, http.StatusBadRequest, "LARDER_INVALID_NAME", err.Error(), nil)
		return
	}
	limit := s.maxBackup()
	tooLarge := func() {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "LARDER_TOO_LARGE",
			fmt.Sprintf("backup larger than the limit of %d bytes (BACKUP_MAX_BYTES)", limit), nil)
	}
	if r.ContentLength > limit {
		tooLarge()
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "LARDER_BAD_REQUEST", "reading the upload: "+err.Error(), nil)
		return
	}
	if int64(len(data)) > limit {
		tooLarge()
		return
	}
	info, err := checkSQLiteImage(data)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "LARDER_INVALID_DATABASE", err.Error(), nil)
		return
	}
	store, err := s.env.Backups()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	bi, err := store.Put(r.Context(), name, data, info)
	if err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("storing backup %s: %w", name, err))
		return
	}
	writeJSON(w, http.StatusCreated, bi)
}

func (s *server) getBackup(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := checkBackupName(name); err != nil {
		writeJSONError(w, http.StatusBadRequest, "LARDER_INVALID_NAME", err.Error(), nil)
		return
	}
	store, err := s.env.Backups()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	body, bi, err := store.Get(r.Context(), name)
	if errors.Is(err, errNoBackup) {
		writeJSONError(w, http.StatusNotFound, "LARDER_NOT_FOUND", fmt.Sprintf("no backup named %q", name), nil)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("reading backup %s: %w", name, err))
		return
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", "application/vnd.sqlite3")
	h.Set("Content-Length", strconv.FormatInt(bi.Size, 10))
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".sqlite"))
	if bi.ETag != "" {
		h.Set("ETag", `"`+bi.ETag+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, body)
	}
}

func (s *server) listBackups(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	store, err := s.env.Backups()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	list, err := store.List(r.Context())
	if err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("listing backups: %w", err))
		return
	}
	if list == nil {
		list = []backupInfo{}
	}
	writeJSON(w, http.StatusOK, list)
}

// cors answers preflights and adds the CORS headers for the origins in
// CORS_ORIGINS (comma-separated, or "*"), so that a page on another origin
// can call db.backup(url) and db.restore(url). It reports whether the
// request was a preflight, now answered.
func (s *server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	allowed := s.env.Getenv("CORS_ORIGINS")
	if origin == "" || allowed == "" {
		return false
	}
	ok := allowed == "*"
	for _, o := range strings.Split(allowed, ",") {
		ok = ok || strings.TrimSpace(o) == origin
	}
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "Larder-Migrate, Larder-Migration-Error, ETag, Content-Length")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
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
	if c := migrations.Code(err); c != "" {
		return c
	}
	return "LARDER_ERROR"
}

func writeError(w http.ResponseWriter, code int, err error) {
	var mig *migrationName
	var me *migrations.MigrationError
	if errors.As(err, &me) {
		mig = &migrationName{Version: me.Version, Name: me.Name}
	}
	writeJSONError(w, code, errorCode(err), err.Error(), mig)
}
