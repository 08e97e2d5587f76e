package engine

import (
	"encoding/binary"
	"errors"
	"math"
)

// tagBool is a request-only cell tag: a JS boolean, one byte.
const tagBool = 5

// Parameter kinds of a statement request.
const (
	paramsNone       = 0
	paramsPositional = 1
	paramsNamed      = 2
)

// StatementRequest is an exec or query as the worker script encodes it
// (larder-worker.js, encodeStatement): one buffer, copied into Go memory
// with one call, instead of a property read per field and per parameter.
//
//	uint32 len, UTF-8 database name
//	uint32 len, UTF-8 SQL
//	byte kind (0 none, 1 positional, 2 named), uint32 count,
//	count × ([named: uint32 len, UTF-8 key] cell)
//
// A cell is a tag byte of the row encoding (see [EncodeRows]) and its
// value: 0 null, 1 float64 (a JS number), 2 int64 (a BigInt), 3 text,
// 4 blob (uint32 length and bytes), or 5 a boolean (one byte). Numbers that
// are integers within ±(2^53−1) bind as INTEGER, as before the encoding.
type StatementRequest struct {
	DB     string
	SQL    string
	Params Params
}

var errShortRequest = errors.New("larder: truncated statement request")

// DecodeStatement decodes a [StatementRequest].
func DecodeStatement(b []byte) (StatementRequest, error) {
	var r StatementRequest
	d := reqDecoder{b: b}
	r.DB = d.text()
	r.SQL = d.text()
	kind := d.byte()
	n := int(d.u32())
	if d.err != nil {
		return r, d.err
	}
	if n > len(d.b) { // every parameter takes at least one byte
		return r, errShortRequest
	}
	switch kind {
	case paramsNone:
	case paramsPositional:
		r.Params.Positional = make([]any, n)
		for i := range n {
			r.Params.Positional[i] = d.cell()
		}
	case paramsNamed:
		r.Params.Named = make(map[string]any, n)
		for range n {
			k := d.text()
			r.Params.Named[k] = d.cell()
		}
	default:
		return r, errors.New("larder: statement request: unknown parameter kind")
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("larder: statement request: trailing bytes")
	}
	return r, d.err
}

type reqDecoder struct {
	b   []byte
	err error
}

func (d *reqDecoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.err = errShortRequest
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *reqDecoder) byte() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *reqDecoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *reqDecoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *reqDecoder) text() string { return string(d.take(int(d.u32()))) }

func (d *reqDecoder) cell() any {
	switch tag := d.byte(); tag {
	case tagNull:
		return nil
	case tagNumber:
		f := math.Float64frombits(d.u64())
		if f == math.Trunc(f) && math.Abs(f) <= MaxSafeInteger {
			return int64(f)
		}
		return f
	case tagBigInt:
		return int64(d.u64())
	case tagText:
		return d.text()
	case tagBlob:
		return append([]byte{}, d.take(int(d.u32()))...)
	case tagBool:
		return d.byte() != 0
	default:
		if d.err == nil {
			d.err = errors.New("larder: statement request: unknown cell tag")
		}
		return nil
	}
}

// AppendStatement appends r to b in the encoding [DecodeStatement] reads,
// as the worker script would encode it: an int64 within ±(2^53−1) as a
// number, beyond as a BigInt. Values of other types than nil, bool, int64,
// float64, string and []byte are encoded as NULL.
func AppendStatement(b []byte, r StatementRequest) []byte {
	b = appendText(b, r.DB)
	b = appendText(b, r.SQL)
	switch {
	case r.Params.Named != nil:
		b = binary.LittleEndian.AppendUint32(append(b, paramsNamed), uint32(len(r.Params.Named)))
		for k, v := range r.Params.Named {
			b = appendCell(appendText(b, k), v)
		}
	case r.Params.Positional != nil:
		b = binary.LittleEndian.AppendUint32(append(b, paramsPositional), uint32(len(r.Params.Positional)))
		for _, v := range r.Params.Positional {
			b = appendCell(b, v)
		}
	default:
		b = binary.LittleEndian.AppendUint32(append(b, paramsNone), 0)
	}
	return b
}

func appendText(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint32(b, uint32(len(s))), s...)
}

func appendCell(b []byte, v any) []byte {
	switch v := v.(type) {
	case bool:
		if v {
			return append(b, tagBool, 1)
		}
		return append(b, tagBool, 0)
	case int64:
		if v >= -MaxSafeInteger && v <= MaxSafeInteger {
			return binary.LittleEndian.AppendUint64(append(b, tagNumber), math.Float64bits(float64(v)))
		}
		return binary.LittleEndian.AppendUint64(append(b, tagBigInt), uint64(v))
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagNumber), math.Float64bits(v))
	case string:
		return appendText(append(b, tagText), v)
	case []byte:
		return append(binary.LittleEndian.AppendUint32(append(b, tagBlob), uint32(len(v))), v...)
	}
	return append(b, tagNull)
}
