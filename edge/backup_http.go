package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The backup routes. Every one acts on the authenticated user's own
// prefix (see user): a user lists, reads and writes only their backups,
// and a backup name is checked before it becomes part of a key.

func (s *server) maxBackup() int64 {
	if v := s.env.Getenv("BACKUP_MAX_BYTES"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return defaultMaxBackup
}

// etagRE is an R2 ETag: hex, with "-N" for multipart uploads.
var etagRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)

// putConditionOf reads a PUT's precondition. A PUT must say what it
// expects, so a stale device cannot overwrite a newer backup unseen:
// If-None-Match: * creates (412 if the name exists), If-Match: "<etag>"
// replaces that version (412 if it changed or is gone), If-Match: *
// replaces whatever exists. Neither is 428.
func putConditionOf(r *http.Request) (putCondition, int, error) {
	im, inm := strings.TrimSpace(r.Header.Get("If-Match")), strings.TrimSpace(r.Header.Get("If-None-Match"))
	switch {
	case im == "" && inm == "":
		return putCondition{}, http.StatusPreconditionRequired,
			errors.New(`PUT needs a precondition: If-None-Match: * to create a backup, or If-Match: "<etag>" (from the last GET or PUT) to replace it`)
	case im != "" && inm != "":
		return putCondition{}, http.StatusBadRequest, errors.New("send If-Match or If-None-Match, not both")
	case inm != "":
		if inm != "*" {
			return putCondition{}, http.StatusBadRequest, fmt.Errorf("If-None-Match %q: only * is accepted (create if absent)", inm)
		}
		return putCondition{IfNoneMatch: "*"}, 0, nil
	case im == "*":
		return putCondition{IfMatch: "*"}, 0, nil
	}
	tag := strings.TrimSuffix(strings.TrimPrefix(im, `"`), `"`)
	if strings.HasPrefix(im, "W/") || !etagRE.MatchString(tag) {
		return putCondition{}, http.StatusBadRequest, fmt.Errorf("If-Match %q: want one strong ETag as returned by GET or PUT, or *", im)
	}
	return putCondition{IfMatch: `"` + tag + `"`}, 0, nil
}

// putBackup is PUT /api/backup/{name}: 201 when created, 200 when
// replaced, with the new ETag; 412 when the precondition fails.
func (s *server) putBackup(w http.ResponseWriter, r *http.Request) {
	u := userOf(r.Context())
	name := r.PathValue("name")
	if err := checkBackupName(name); err != nil {
		writeJSONError(w, http.StatusBadRequest, "LARDER_INVALID_NAME", err.Error(), nil)
		return
	}
	cond, code, err := putConditionOf(r)
	if err != nil {
		larderCode := "LARDER_BAD_REQUEST"
		if code == http.StatusPreconditionRequired {
			larderCode = "LARDER_PRECONDITION_REQUIRED"
		}
		writeJSONError(w, code, larderCode, "backup "+name+": "+err.Error(), nil)
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
	keepAs := func(old backupInfo) string {
		return u.versionPrefix(name) + old.Uploaded + "_" + old.ETag
	}
	bi, err := store.Put(r.Context(), u.backupPrefix()+name, data, info, cond, keepAs)
	if errors.Is(err, errPrecondition) {
		msg := fmt.Sprintf("backup %s exists (If-None-Match: *): fetch it, or send If-Match with its ETag to replace it", name)
		if cond.IfMatch != "" {
			msg = fmt.Sprintf("backup %s is not at ETag %s (changed or deleted since): fetch it and merge, or send If-Match with its current ETag", name, cond.IfMatch)
		}
		writeJSONError(w, http.StatusPreconditionFailed, "LARDER_PRECONDITION_FAILED", msg, nil)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("storing backup %s: %w", name, err))
		return
	}
	bi.Name = name
	if bi.ETag != "" {
		w.Header().Set("ETag", `"`+bi.ETag+`"`)
	}
	status := http.StatusOK
	if cond.IfNoneMatch != "" {
		status = http.StatusCreated
	}
	writeJSON(w, status, bi)
}

// getBackup is GET and HEAD /api/backup/{name}.
func (s *server) getBackup(w http.ResponseWriter, r *http.Request) {
	u := userOf(r.Context())
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
	body, bi, err := store.Get(r.Context(), u.backupPrefix()+name)
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
	h.Set("Cache-Control", "private, no-store")
	if bi.ETag != "" {
		h.Set("ETag", `"`+bi.ETag+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, body)
	}
}

// listBackups is GET /api/backups: the user's own backups.
func (s *server) listBackups(w http.ResponseWriter, r *http.Request) {
	u := userOf(r.Context())
	store, err := s.env.Backups()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	prefix := u.backupPrefix()
	list, err := store.List(r.Context(), prefix)
	if err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("listing backups: %w", err))
		return
	}
	out := []backupInfo{}
	for _, b := range list {
		if name, ok := strings.CutPrefix(b.Name, prefix); ok && checkBackupName(name) == nil {
			b.Name = name
			out = append(out, b)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
