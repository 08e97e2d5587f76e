package syncer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
)

// CodeBusy is answered (503, Retry-After) when a push kept losing to
// concurrent pushes of the same database; nothing of it was written.
const CodeBusy = "LARDER_BUSY"

// Status is the HTTP status the edge answers for a Larder code of sync.
func Status(code string) int {
	switch code {
	case CodeOutdated:
		return http.StatusConflict // 409: this client's code is too old; retrying will not help, reloading will
	case CodeServerBehind, CodeBusy:
		return http.StatusServiceUnavailable // 503: the server is not ready for this client yet
	case CodeInvalid:
		return http.StatusBadRequest
	case CodeForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// busyTries is how many times HandleHTTP runs a push that lost to a
// concurrent one before answering CodeBusy.
const busyTries = 4

// HandleHTTP answers one request to a sync route (RouteHello, RoutePush,
// RoutePull; POST, JSON) for the user sub on s. The caller has
// authenticated the request: sub is the verified token's subject, never
// anything the body says. Errors are JSON ErrorBody with the status of
// Status; a push that lost to a concurrent one is run again (it wrote
// nothing) a few times before CodeBusy.
func HandleHTTP(w http.ResponseWriter, r *http.Request, s *Server, sub string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, CodeInvalid, r.URL.Path+" takes POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalid, "reading the body: "+err.Error())
		return
	}
	if len(body) > MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, CodeInvalid, fmt.Sprintf("body larger than %d bytes", MaxBody))
		return
	}
	ctx := r.Context()
	var out any
	switch {
	case strings.HasSuffix(r.URL.Path, RouteHello):
		var req HelloRequest
		if !decode(w, body, &req) {
			return
		}
		var v ServerVersion
		if v, err = s.Version(ctx); err == nil {
			err = CheckVersions(req.Hello, v)
		}
		out = HelloResponse{Server: v}
	case strings.HasSuffix(r.URL.Path, RoutePush):
		var req PushRequest
		if !decode(w, body, &req) {
			return
		}
		var resp PushResponse
		for try := 1; ; try++ {
			resp, err = s.Push(ctx, sub, req)
			if !errors.Is(err, ErrBusy) || try == busyTries {
				break
			}
		}
		out = resp
	case strings.HasSuffix(r.URL.Path, RoutePull):
		var req PullRequest
		if !decode(w, body, &req) {
			return
		}
		out, err = s.Pull(ctx, sub, req)
	default:
		writeError(w, http.StatusNotFound, "LARDER_NOT_FOUND", "no sync route "+r.URL.Path)
		return
	}
	var se *Error
	switch {
	case errors.As(err, &se):
		writeError(w, Status(se.Code), se.Code, se.Message)
		return
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, Status(CodeBusy), CodeBusy, err.Error())
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
		writeError(w, http.StatusBadRequest, CodeInvalid, "the body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var eb ErrorBody
	eb.Error.Code, eb.Error.Message = code, msg
	b, _ := json.Marshal(eb)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
