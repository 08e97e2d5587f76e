package syncer

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The reference: the wire types as encoding/json writes and reads them
// without the hand-written methods (jsontext.go), and Value as it was
// written on encoding/json.
type (
	refValue  struct{ V any }
	refChange struct {
		ID    string              `json:"id"`
		Table string              `json:"table"`
		PK    string              `json:"pk"`
		Op    string              `json:"op"`
		Cols  map[string]refValue `json:"cols,omitempty"`
	}
	refPush struct {
		Hello   Hello       `json:"hello"`
		Changes []refChange `json:"changes"`
	}
	refPull struct {
		Hello  Hello `json:"hello"`
		Cursor int64 `json:"cursor"`
		Limit  int   `json:"limit"`
	}
	refPushResponse struct {
		Accepted  []string    `json:"accepted"`
		Duplicate []string    `json:"duplicate"`
		Rejected  []Rejection `json:"rejected"`
		Seq       int64       `json:"seq"`
	}
	refRow struct {
		Table   string            `json:"table"`
		PK      string            `json:"pk"`
		Seq     int64             `json:"seq"`
		Deleted bool              `json:"deleted,omitempty"`
		Cols    map[string]Value  `json:"cols,omitempty"`
		Clocks  map[string]string `json:"clocks,omitempty"`
	}
	refPullResponse struct {
		Rows   []refRow `json:"rows"`
		Cursor int64    `json:"cursor"`
		More   bool     `json:"more"`
	}
	refErrorBody struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
)

func (v refValue) MarshalJSON() ([]byte, error) {
	switch x := v.V.(type) {
	case int64:
		if x > maxSafeInt || x < -maxSafeInt {
			return json.Marshal(map[string]string{"i": strconv.FormatInt(x, 10)})
		}
	case string:
		return json.Marshal(x)
	case []byte:
		return json.Marshal(map[string]string{"b": base64.StdEncoding.EncodeToString(x)})
	}
	return Value(v).MarshalJSON() // null, small integers, REAL: never written by encoding/json
}

// randString mixes ASCII, HTML characters, controls, multi-byte runes,
// U+2028/9 and invalid UTF-8.
func randString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "<", ">", "&", "\"", "\\", "/", "\x00", "\x01", "\x1f", "\x7f", "\b", "\f", "\n", "\r", "\t",
		"é", "€", "😀", "\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "'", "%"}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randValue(r *rand.Rand) any {
	switch r.IntN(7) {
	case 0:
		return nil
	case 1:
		return r.Int64N(2000) - 1000
	case 2:
		return int64(r.Uint64())
	case 3:
		return []float64{0.5, -1, 1e300, 1e-7, math.Inf(1), math.Inf(-1), 3, 123456789.125}[r.IntN(8)]
	case 4:
		return randString(r)
	case 5:
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	return math.Float64frombits(r.Uint64() &^ (0x7ff << 52)) // finite
}

func randCols(r *rand.Rand) (map[string]Value, map[string]refValue) {
	if r.IntN(4) == 0 {
		return nil, nil
	}
	cols, ref := map[string]Value{}, map[string]refValue{}
	for range r.IntN(5) {
		k, v := randString(r), randValue(r)
		cols[k], ref[k] = Value{v}, refValue{v}
	}
	return cols, ref
}

// TestJSONTextAgreesWithEncodingJSON: the requests the device writes are
// byte for byte what encoding/json writes, and the answers it reads (as the
// edge writes them, and hand-written variants) read as encoding/json
// reads them.
func TestJSONTextAgreesWithEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 8))
	for range 2000 {
		s := randString(r)
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
	for n := range 300 {
		h := Hello{Version: r.Int64N(1 << 40), Breaking: r.Int64N(5) - 1}
		var req PushRequest
		ref := refPush{Hello: h}
		req.Hello = h
		if n%7 != 0 {
			req.Changes, ref.Changes = []Change{}, []refChange{}
		}
		for range r.IntN(4) {
			cols, refCols := randCols(r)
			ch := Change{ID: randString(r), Table: randString(r), PK: randString(r), Op: OpUpdate, Cols: cols}
			req.Changes = append(req.Changes, ch)
			ref.Changes = append(ref.Changes, refChange{ch.ID, ch.Table, ch.PK, ch.Op, refCols})
		}
		got, err := req.MarshalJSON()
		want, err2 := json.Marshal(ref)
		if err != nil || err2 != nil || string(got) != string(want) {
			t.Fatalf("push request:\n got %s (%v)\nwant %s (%v)", got, err, want, err2)
		}
		if via, err := json.Marshal(req); err != nil || string(via) != string(want) {
			t.Fatalf("push request through encoding/json: %s (%v)", via, err)
		}
		pull := PullRequest{Hello: h, Cursor: r.Int64(), Limit: r.IntN(1000)}
		got, _ = pull.MarshalJSON()
		want, _ = json.Marshal(refPull(pull))
		if string(got) != string(want) {
			t.Fatalf("pull request:\n got %s\nwant %s", got, want)
		}

		// Answers as the edge writes them (encoding/json).
		pr := refPushResponse{Seq: r.Int64()}
		if n%5 != 0 {
			pr.Accepted, pr.Duplicate, pr.Rejected = []string{}, []string{}, []Rejection{}
		}
		for range r.IntN(3) {
			pr.Accepted = append(pr.Accepted, randString(r))
			pr.Rejected = append(pr.Rejected, Rejection{ID: randString(r), Code: CodeForbidden, Message: randString(r),
				Table: randString(r), PK: randString(r), Gone: r.IntN(2) == 0})
		}
		checkRead(t, &pr, &PushResponse{}, &refPushResponse{})
		pl := refPullResponse{Cursor: r.Int64(), More: n%2 == 0}
		if n%6 != 0 {
			pl.Rows = []refRow{}
		}
		for range r.IntN(3) {
			cols, _ := randCols(r)
			row := refRow{Table: randString(r), PK: randString(r), Seq: r.Int64N(1e9), Deleted: r.IntN(2) == 0, Cols: cols}
			if cols != nil {
				row.Clocks = map[string]string{}
				for k := range cols {
					row.Clocks[k] = randString(r)
				}
			}
			pl.Rows = append(pl.Rows, row)
		}
		checkRead(t, &pl, &PullResponse{}, &refPullResponse{})
	}
	// Hand-written answers: space, escapes, unknown keys, nulls.
	for _, text := range []string{
		` { "accepted" : [ "a\u00e9\/\ud83d\ude00" , "\ud800x" ] , "seq" : 7 , "other" : {"x":[1,2,{"y":null}]} , "rejected" : null } `,
		`{"accepted":null,"duplicate":["x"],"rejected":[{"id":"1","code":"c","message":"m","extra":true}],"seq":-3}`,
		"{\"accepted\":[\"caf\xc3\xa9\",\"bad\xff\"]}",
		`{"seq":null,"accepted":[],"accepted":["again"]}`,
	} {
		checkRead(t, []byte(text), &PushResponse{}, &refPushResponse{})
	}
	for _, text := range []string{
		`{"rows":[{"table":"t","pk":"1","seq":2,"cols":{"a":1,"b":2.5,"c":"x","d":{"b":"AAH/"},"e":null,"f":{"i":"9007199254740993"}},"clocks":{"a":"h"}},{"deleted":true}],"cursor":9,"more":true}`,
		`{"rows":null,"cursor":0,"more":false,"ignored":"\u2028"}`,
		`{"rows":[{"cols":null,"clocks":null,"deleted":null}]}`,
	} {
		checkRead(t, []byte(text), &PullResponse{}, &refPullResponse{})
	}
	checkRead(t, []byte(`{"error":{"code":"LARDER_FORBIDDEN","message":"no <b>"},"x":1}`), &ErrorBody{}, &refErrorBody{})
	checkRead(t, []byte(`{"error":null}`), &ErrorBody{}, &refErrorBody{})

	// What encoding/json refuses, the reader refuses.
	for _, bad := range []string{``, `{`, `{"seq":1.5}`, `{"seq":"1"}`, `{"accepted":[1]}`, `{"accepted":"x"}`, `[]`, `{"seq":1}x`,
		`{"seq":01}`, `{"seq":-}`, `{"accepted":["\x"]}`, "{\"accepted\":[\"\x01\"]}", `{"seq":1,}`, `{'seq':1}`, `{"more":1}`, `nul`} {
		var got PushResponse
		var want refPushResponse
		err, err2 := got.UnmarshalJSON([]byte(bad)), json.Unmarshal([]byte(bad), &want)
		if err == nil || err2 == nil {
			if bad == `{"more":1}` && err == nil && err2 == nil {
				continue // a push answer has no "more": skipped by both
			}
			t.Errorf("%s: reader error %v, encoding/json error %v", bad, err, err2)
		}
	}
	var v Value
	if err := v.UnmarshalJSON([]byte(`{"i":"1","i":"2"}`)); err != nil || v.V != int64(2) {
		t.Errorf("repeated key: %v %v", v.V, err)
	}
}

// checkRead decodes src (bytes, or a value encoding/json writes) with the
// hand-written reader into got and with encoding/json into ref, and wants
// the same result.
func checkRead(t *testing.T, src any, got interface{ UnmarshalJSON([]byte) error }, ref any) {
	t.Helper()
	data, ok := src.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(src); err != nil {
			t.Fatal(err)
		}
	}
	if err := json.Unmarshal(data, ref); err != nil {
		t.Fatalf("encoding/json: %s: %v", data, err)
	}
	if err := got.UnmarshalJSON(data); err != nil {
		t.Fatalf("reader: %s: %v", data, err)
	}
	// Compare through encoding/json's form of both.
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(ref)
	if string(a) != string(b) || reflect.ValueOf(got).Elem().NumField() != reflect.ValueOf(ref).Elem().NumField() {
		t.Fatalf("read %s:\n got %s\nwant %s", data, a, b)
	}
}
