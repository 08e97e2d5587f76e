package syncer

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestValueJSONKeepsStorageClass(t *testing.T) {
	cases := []struct {
		v    any
		json string
	}{
		{nil, `null`},
		{int64(0), `0`},
		{int64(-42), `-42`},
		{int64(1<<53 - 1), `9007199254740991`},
		{int64(1 << 53), `{"i":"9007199254740992"}`},
		{int64(math.MinInt64), `{"i":"-9223372036854775808"}`},
		{1.0, `1.0`},
		{-0.5, `-0.5`},
		{1e300, `1e+300`},
		{math.Inf(1), `{"f":"inf"}`},
		{math.Inf(-1), `{"f":"-inf"}`},
		{"", `""`},
		{"ünï \"q\"", `"ünï \"q\""`},
		{[]byte{}, `{"b":""}`},
		{[]byte{0, 1, 0xff}, `{"b":"AAH/"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(Value{c.v})
		if err != nil || string(b) != c.json {
			t.Errorf("marshal %#v = %s, %v; want %s", c.v, b, err, c.json)
			continue
		}
		var back Value
		if err := json.Unmarshal(b, &back); err != nil || !equalValues(back.V, c.v) {
			t.Errorf("round trip of %#v gave %#v, %v", c.v, back.V, err)
		}
	}
	for _, bad := range []string{`true`, `[1]`, `{"i":"x"}`, `{"f":"nan"}`, `{"b":"!"}`, `{"x":"1"}`, `{"i":"1","b":""}`, `1e999`} {
		var v Value
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s decoded as %#v", bad, v.V)
		}
	}
	if _, err := json.Marshal(Value{math.NaN()}); err == nil {
		t.Error("NaN encoded")
	}
}

func TestHLCOrderIsTextOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := []string{"0a", "0b", "ff00", "9f86d081884c7d65"}
	var hs []HLC
	for range 200 {
		hs = append(hs, HLC{Millis: rng.Int64N(3) + 1764950400000, Counter: rng.Int64N(3), Node: nodes[rng.IntN(len(nodes))]})
	}
	for _, a := range hs {
		for _, b := range hs {
			if got, want := a.Compare(b), strings.Compare(a.String(), b.String()); got != want {
				t.Fatalf("%s vs %s: Compare %d, text %d", a, b, got, want)
			}
		}
		back, err := ParseHLC(a.String())
		if err != nil || back != a {
			t.Fatalf("parse %s: %v %v", a, back, err)
		}
	}
	for _, bad := range []string{"", "1-2-3", "001764950400123-0000000000-XYZ", "001764950400123-000000000-ab", "-01764950400123-0000000000-ab"} {
		if _, err := ParseHLC(bad); err == nil {
			t.Errorf("ParseHLC(%q) accepted", bad)
		}
	}
}
