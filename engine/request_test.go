package engine

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

// req builds a statement request as larder-worker.js's encodeStatement does.
type req []byte

func (b req) text(s string) req {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
func (b req) head(kind byte, n uint32) req {
	return binary.LittleEndian.AppendUint32(append(b, kind), n)
}
func (b req) num(f float64) req {
	return binary.LittleEndian.AppendUint64(append(b, tagNumber), math.Float64bits(f))
}
func (b req) big(i int64) req {
	return binary.LittleEndian.AppendUint64(append(b, tagBigInt), uint64(i))
}

func TestDecodeStatement(t *testing.T) {
	b := req(nil).text("notes").text("SELECT ?, ?, ?, ?, ?, ?, ?, ?").head(paramsPositional, 8).
		num(7).num(1.5).num(1 << 53).big(math.MaxInt64)
	b = append(req(append(b, tagText)).text("héllo"), tagNull)
	b = append(req(append(b, tagBlob)).text("\x00\x01"), tagBool, 1)
	got, err := DecodeStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	want := StatementRequest{DB: "notes", SQL: "SELECT ?, ?, ?, ?, ?, ?, ?, ?", Params: Params{Positional: []any{
		int64(7), 1.5, float64(1 << 53), int64(math.MaxInt64), "héllo", nil, []byte{0, 1}, true}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	// The empty blob stays a blob (nil would bind NULL) — DeepEqual above
	// cannot tell; check it apart.
	b = req(nil).text("d").text("SELECT ?").head(paramsPositional, 1)
	b = append(b, tagBlob, 0, 0, 0, 0)
	if got, err := DecodeStatement(b); err != nil || got.Params.Positional[0] == nil || len(got.Params.Positional[0].([]byte)) != 0 {
		t.Fatalf("empty blob: %#v, %v", got.Params.Positional, err)
	}

	named := req(nil).text("d").text("SELECT :a").head(paramsNamed, 1).text(":a").num(-3)
	got, err = DecodeStatement(named)
	if err != nil || !reflect.DeepEqual(got.Params.Named, map[string]any{":a": int64(-3)}) {
		t.Fatalf("named: %#v, %v", got.Params, err)
	}
	none := req(nil).text("d").text("SELECT 1").head(paramsNone, 0)
	if got, err := DecodeStatement(none); err != nil || got.Params.Positional != nil || got.Params.Named != nil {
		t.Fatalf("no params: %#v, %v", got.Params, err)
	}
}

func TestDecodeStatementRejectsBadInput(t *testing.T) {
	good := req(nil).text("d").text("SELECT ?").head(paramsPositional, 1).num(1)
	for i := range len(good) { // every truncation
		if _, err := DecodeStatement(good[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	for name, b := range map[string][]byte{
		"trailing bytes":   append(append(req{}, good...), 0),
		"unknown tag":      append(req(nil).text("d").text("SELECT ?").head(paramsPositional, 1), 9),
		"unknown kind":     req(nil).text("d").text("SELECT 1").head(7, 0),
		"huge count":       req(nil).text("d").text("SELECT 1").head(paramsPositional, 1<<30),
		"huge text length": binary.LittleEndian.AppendUint32(nil, 1<<31),
	} {
		if _, err := DecodeStatement(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
