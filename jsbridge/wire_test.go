package jsbridge_test

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/engine"
)

// The golden vectors of testdata/wire (docs/PROTOCOL.md): the Go side of
// the statement and row encodings must read and write exactly the bytes
// the JS side does (jsbridge/js/test/wire.test.js holds the JS side to the
// same files). `go test ./jsbridge -run TestWire -update-wire` rewrites the
// rows' bytes from SQLite; review the diff.

var updateWire = flag.Bool("update-wire", false, "rewrite testdata/wire/rows.json's bytes from EncodeRows")

func wirePath(name string) string { return filepath.Join("..", "testdata", "wire", name) }

// goValue is a decoded value of a vector: null, {int}, {float}, {text},
// {blob: hex} or {bool}.
func goValue(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	if string(raw) == "null" {
		return nil
	}
	var v struct {
		Int   *string
		Float *float64
		Text  *string
		Blob  *string
		Bool  *bool
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("value %s: %v", raw, err)
	}
	switch {
	case v.Int != nil:
		i, err := strconv.ParseInt(*v.Int, 10, 64)
		if err != nil {
			t.Fatalf("value %s: %v", raw, err)
		}
		return i
	case v.Float != nil:
		return *v.Float
	case v.Text != nil:
		return *v.Text
	case v.Blob != nil:
		b, err := hex.DecodeString(*v.Blob)
		if err != nil {
			t.Fatalf("value %s: %v", raw, err)
		}
		return b
	case v.Bool != nil:
		return *v.Bool
	}
	t.Fatalf("value %s: no known form", raw)
	return nil
}

type statementVector struct {
	Name    string
	DB      string
	SQL     string
	Decoded struct {
		Kind   string
		Values json.RawMessage
	}
	Hex string
}

func TestWireStatements(t *testing.T) {
	var file struct{ Vectors []statementVector }
	readJSON(t, wirePath("statements.json"), &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			b, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatal(err)
			}
			want := engine.StatementRequest{DB: v.DB, SQL: v.SQL}
			switch v.Decoded.Kind {
			case "none":
			case "positional":
				var raws []json.RawMessage
				if err := json.Unmarshal(v.Decoded.Values, &raws); err != nil {
					t.Fatal(err)
				}
				want.Params.Positional = []any{}
				for _, r := range raws {
					want.Params.Positional = append(want.Params.Positional, goValue(t, r))
				}
			case "named":
				var raws map[string]json.RawMessage
				if err := json.Unmarshal(v.Decoded.Values, &raws); err != nil {
					t.Fatal(err)
				}
				want.Params.Named = map[string]any{}
				for k, r := range raws {
					want.Params.Named[k] = goValue(t, r)
				}
			default:
				t.Fatalf("kind %q", v.Decoded.Kind)
			}
			got, err := engine.DecodeStatement(b)
			if err != nil {
				t.Fatalf("DecodeStatement: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeStatement:\n got  %#v\n want %#v", got, want)
			}
			// The Go encoder (for Go callers and tests) writes the same
			// bytes where the JS values have one Go form: no Date,
			// undefined, more than one named parameter (map order), or a
			// float that is an integer (JS sends a number, Go an int64).
			if encodable(want) {
				if enc := hex.EncodeToString(engine.AppendStatement(nil, want)); enc != v.Hex {
					t.Fatalf("AppendStatement:\n got  %s\n want %s", enc, v.Hex)
				}
			}
		})
	}
}

func encodable(r engine.StatementRequest) bool {
	if len(r.Params.Named) > 1 {
		return false
	}
	for _, v := range r.Params.Positional {
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			return false
		}
	}
	return true
}

type rowsVector struct {
	Name    string              `json:"name"`
	SQL     string              `json:"sql"`
	Columns []string            `json:"columns"`
	Rows    [][]json.RawMessage `json:"rows"`
	Hex     string              `json:"hex"`
}

func TestWireRows(t *testing.T) {
	var file struct {
		About   string       `json:"about"`
		Vectors []rowsVector `json:"vectors"`
	}
	path := wirePath("rows.json")
	readJSON(t, path, &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			stmt, tail, err := conn.Prepare(v.SQL)
			if err != nil {
				t.Fatal(err)
			}
			defer stmt.Close()
			if tail != "" {
				t.Fatalf("one statement per vector, got tail %q", tail)
			}
			enc, err := engine.EncodeRows(stmt, nil)
			if err != nil {
				t.Fatal(err)
			}
			if *updateWire {
				file.Vectors[i].Hex = hex.EncodeToString(enc)
				return
			}
			if got := hex.EncodeToString(enc); got != v.Hex {
				t.Fatalf("EncodeRows of %s:\n got  %s\n want %s", v.SQL, got, v.Hex)
			}
			b, _ := hex.DecodeString(v.Hex)
			cols, rows, err := engine.DecodeRows(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cols, v.Columns) {
				t.Fatalf("columns %q, want %q", cols, v.Columns)
			}
			if len(rows) != len(v.Rows) {
				t.Fatalf("%d rows, want %d", len(rows), len(v.Rows))
			}
			for r := range rows {
				want := make([]any, len(v.Rows[r]))
				for c, raw := range v.Rows[r] {
					want[c] = rowValue(goValue(t, raw))
				}
				if !reflect.DeepEqual(rows[r], want) {
					t.Fatalf("row %d: %#v, want %#v", r, rows[r], want)
				}
			}
		})
	}
	if *updateWire {
		out, err := json.MarshalIndent(file, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rowValue is v as DecodeRows returns it: integers within ±(2^53−1) come
// back as float64 (the row encoding sends them as JS numbers).
func rowValue(v any) any {
	if i, ok := v.(int64); ok && i >= -(1<<53-1) && i <= 1<<53-1 {
		return float64(i)
	}
	return v
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
