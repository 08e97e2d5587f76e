//go:build !js

package main

import (
	"net/http/httptest"
	"testing"
)

func TestPutConditionOf(t *testing.T) {
	for _, c := range []struct {
		im, inm string
		want    putCondition
		status  int
	}{
		{"", "", putCondition{}, 428},
		{`"abc"`, "*", putCondition{}, 400},
		{"", "*", putCondition{IfNoneMatch: "*"}, 0},
		{"", `"abc"`, putCondition{}, 400},
		{"*", "", putCondition{IfMatch: "*"}, 0},
		{`"0a1b-2"`, "", putCondition{IfMatch: `"0a1b-2"`}, 0},
		{`0a1b`, "", putCondition{IfMatch: `"0a1b"`}, 0},
		{`W/"0a1b"`, "", putCondition{}, 400},
		{`"a", "b"`, "", putCondition{}, 400},
		{"\"a\nb\"", "", putCondition{}, 400},
	} {
		r := httptest.NewRequest("PUT", "/api/backup/x", nil)
		if c.im != "" {
			r.Header["If-Match"] = []string{c.im}
		}
		if c.inm != "" {
			r.Header["If-None-Match"] = []string{c.inm}
		}
		got, status, err := putConditionOf(r)
		if got != c.want || status != c.status || (status != 0) != (err != nil) {
			t.Errorf("If-Match %q If-None-Match %q: %+v %d %v, want %+v %d", c.im, c.inm, got, status, err, c.want, c.status)
		}
	}
}

func TestOriginAllowed(t *testing.T) {
	list := "https://app.example, *, https://*.example, https://p.example/, http://127.0.0.1:8080"
	for origin, want := range map[string]bool{
		"https://app.example":   true,
		"http://127.0.0.1:8080": true,
		"https://x.example":     false,
		"https://p.example":     false,
		"null":                  false,
		"http://app.example":    false,
	} {
		if got := originAllowed(list, origin); got != want {
			t.Errorf("%s: %v, want %v", origin, got, want)
		}
	}
}
