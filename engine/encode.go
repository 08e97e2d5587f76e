package engine

import (
	"encoding/binary"
	"math"

	"github.com/ncruces/go-sqlite3"
)

// Cell tags of the row encoding.
const (
	tagNull   = 0
	tagNumber = 1 // INTEGER within ±(2^53−1), or REAL: float64
	tagBigInt = 2 // INTEGER beyond ±(2^53−1): int64
	tagText   = 3 // uint32 byte length + UTF-8
	tagBlob   = 4 // uint32 byte length + bytes
)

// MaxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER: integers within
// ± it travel as numbers, others as BigInts.
const MaxSafeInteger = 1<<53 - 1

// EncodeRows steps stmt to the end and returns its rows in the flat encoding
// larder.js decodes (all integers little-endian):
//
//	uint32 ncols, ncols × (uint32 len, UTF-8 name), uint32 nrows,
//	nrows × ncols × cell
//	cell: tag byte, then float64 (1), int64 (2), uint32 len + bytes (3, 4), nothing (0)
//
// One buffer per query means one copy into JS memory and one transfer to the
// page, with no per-row or per-cell JS objects created by Go.
func EncodeRows(stmt *sqlite3.Stmt, buf []byte) ([]byte, error) {
	n := stmt.ColumnCount()
	buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(n))
	for i := range n {
		name := stmt.ColumnName(i)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(name)))
		buf = append(buf, name...)
	}
	countAt := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	rows := uint32(0)
	for stmt.Step() {
		rows++
		for i := range n {
			switch stmt.ColumnType(i) {
			case sqlite3.INTEGER:
				v := stmt.ColumnInt64(i)
				if v >= -MaxSafeInteger && v <= MaxSafeInteger {
					buf = append(buf, tagNumber)
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(v)))
				} else {
					buf = append(buf, tagBigInt)
					buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
				}
			case sqlite3.FLOAT:
				buf = append(buf, tagNumber)
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(stmt.ColumnFloat(i)))
			case sqlite3.TEXT:
				b := stmt.ColumnRawText(i)
				buf = append(buf, tagText)
				buf = binary.LittleEndian.AppendUint32(buf, uint32(len(b)))
				buf = append(buf, b...)
			case sqlite3.BLOB:
				b := stmt.ColumnRawBlob(i)
				buf = append(buf, tagBlob)
				buf = binary.LittleEndian.AppendUint32(buf, uint32(len(b)))
				buf = append(buf, b...)
			default:
				buf = append(buf, tagNull)
			}
		}
	}
	if err := stmt.Err(); err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint32(buf[countAt:], rows)
	return buf, nil
}

// DecodeRows is the Go twin of larder.js's decoder, for tests and Go callers
// of [Database.Query]: it returns the column names and the rows, with values
// as nil, int64, float64, string or []byte.
func DecodeRows(b []byte) (cols []string, rows [][]any, err error) {
	d := decoder{b: b}
	n := int(d.u32())
	cols = make([]string, n)
	for i := range cols {
		cols[i] = string(d.bytes(int(d.u32())))
	}
	nrows := int(d.u32())
	for range nrows {
		row := make([]any, n)
		for i := range row {
			switch tag := d.byte(); tag {
			case tagNull:
			case tagNumber:
				row[i] = math.Float64frombits(d.u64()) // INTEGER or REAL: JS cannot tell either
			case tagBigInt:
				row[i] = int64(d.u64())
			case tagText:
				row[i] = string(d.bytes(int(d.u32())))
			case tagBlob:
				row[i] = append([]byte{}, d.bytes(int(d.u32()))...)
			default:
				d.err = Errorf(CodeInternal, "decode rows: bad tag %d", tag)
			}
		}
		if d.err != nil {
			return nil, nil, d.err
		}
		rows = append(rows, row)
	}
	return cols, rows, d.err
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n > len(d.b) {
		if d.err == nil {
			d.err = Errorf(CodeInternal, "decode rows: truncated")
		}
		return make([]byte, n)
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte         { return d.take(1)[0] }
func (d *decoder) u32() uint32        { return binary.LittleEndian.Uint32(d.take(4)) }
func (d *decoder) u64() uint64        { return binary.LittleEndian.Uint64(d.take(8)) }
func (d *decoder) bytes(n int) []byte { return d.take(n) }
