package main

import (
	"log"
	"net/http"
	"net/url"
	"strings"
)

// cors answers preflights and adds the CORS headers for the origins listed
// in CORS_ORIGINS (comma-separated, each exactly scheme://host[:port]), so
// that a page on another origin can call db.backup(url) and
// db.restore(url), and POST to the sync routes, with its bearer token. Only a listed origin is ever
// reflected; "*" and other entries that are not an origin are ignored
// (and logged): tokens are per user, and a Worker that answers any origin
// lets any page that holds a token use it. Credentials (cookies) are never
// allowed. It reports whether the request was a preflight, now answered.
func (s *server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !originAllowed(s.env.Getenv("CORS_ORIGINS"), origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "Larder-Migrate, Larder-Migration-Error, ETag, Content-Length, Retry-After")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, If-None-Match")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// originAllowed reports whether origin is one of the exact origins in list.
func originAllowed(list, origin string) bool {
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if !isOrigin(o) {
			log.Printf("larder: CORS_ORIGINS entry %q ignored: want an origin such as https://app.example (no wildcard, path or trailing slash)", o)
			continue
		}
		if o == origin {
			return true
		}
	}
	return false
}

// isOrigin reports whether o is scheme://host[:port] and nothing else.
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.Contains(u.Host, "*") &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil && u.Scheme+"://"+u.Host == o
}
