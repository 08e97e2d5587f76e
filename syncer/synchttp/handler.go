package synchttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/larderdb/larder/syncer"
)

// Status is the HTTP status the edge answers for a Larder code of sync.
func Status(code string) int {
	switch code {
	case syncer.CodeOutdated:
		return http.StatusConflict // 409: this client's code is too old; retrying will not help, reloading will
	case syncer.CodeServerBehind, syncer.CodeBusy:
		return http.StatusServiceUnavailable // 503: the server is not ready for this client yet
	case syncer.CodeInvalid:
		return http.StatusBadRequest
	case syncer.CodeForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// busyTries is how many times HandleHTTP runs a push that lost to a
// concurrent one before answering syncer.CodeBusy.
const busyTries = 4

// HandleHTTP answers one request to a sync route (syncer.RouteHello, syncer.RoutePush,
// syncer.RoutePull; POST, JSON) for the user sub on s. The caller has
// authenticated the request: sub is the verified token's subject, never
// anything the body says. Errors are JSON syncer.ErrorBody with the status of
// Status; a push that lost to a concurrent one is run again (it wrote
// nothing) a few times before syncer.CodeBusy.
func HandleHTTP(w http.ResponseWriter, r *http.Request, s *syncer.Server, sub string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, syncer.CodeInvalid, r.URL.Path+" takes POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, syncer.MaxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, syncer.CodeInvalid, "reading the body: "+err.Error())
		return
	}
	if len(body) > syncer.MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, syncer.CodeInvalid, fmt.Sprintf("body larger than %d bytes", syncer.MaxBody))
		return
	}
	ctx := r.Context()
	var out any
	switch {
	case strings.HasSuffix(r.URL.Path, syncer.RouteHello):
		var req syncer.HelloRequest
		if !decode(w, body, &req) {
			return
		}
		var v syncer.ServerVersion
		if v, err = s.Version(ctx); err == nil {
			err = syncer.CheckVersions(req.Hello, v)
		}
		out = syncer.HelloResponse{Server: v}
	case strings.HasSuffix(r.URL.Path, syncer.RoutePush):
		var req syncer.PushRequest
		if !decode(w, body, &req) {
			return
		}
		var resp syncer.PushResponse
		for try := 1; ; try++ {
			resp, err = s.Push(ctx, sub, req)
			if !errors.Is(err, syncer.ErrBusy) || try == busyTries {
				break
			}
		}
		out = resp
	case strings.HasSuffix(r.URL.Path, syncer.RoutePull):
		var req syncer.PullRequest
		if !decode(w, body, &req) {
			return
		}
		out, err = s.Pull(ctx, sub, req)
	default:
		writeError(w, http.StatusNotFound, "LARDER_NOT_FOUND", "no sync route "+r.URL.Path)
		return
	}
	var se *syncer.Error
	switch {
	case errors.As(err, &se):
		writeError(w, Status(se.Code), se.Code, se.Message)
		return
	case errors.Is(err, syncer.ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, Status(syncer.CodeBusy), syncer.CodeBusy, err.Error())
		return
	case err != nil:
		log.Printf("larder: sync %s for %q: %v", r.URL.Path, sub, err)
		writeError(w, http.StatusInternalServerError, "LARDER_ERROR", err.Error())
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "LARDER_ERROR", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func decode(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, syncer.CodeInvalid, "the body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var eb syncer.ErrorBody
	eb.Error.Code, eb.Error.Message = code, msg
	b, _ := json.Marshal(eb)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
