package syncer

import (
	"fmt"
	"strconv"
)

// typed selects expr so that its storage class survives a Store whose
// numbers arrive as JavaScript numbers (D1, where INTEGER 2 and REAL 2.0
// are the same number and integers beyond 2^53 lose digits): an INTEGER
// comes back as the text 'i' followed by its digits, a TEXT as 't'
// followed by the text; REAL, BLOB and NULL come back as they are (a JS
// number is exactly a REAL). untyped decodes it. Every Store goes through
// it, so the native tests run the same path as the edge.
func typed(expr string) string {
	return fmt.Sprintf("CASE typeof(%[1]s) WHEN 'integer' THEN 'i' || %[1]s WHEN 'text' THEN 't' || %[1]s ELSE %[1]s END", expr)
}

// untyped decodes a value selected through typed.
func untyped(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil, fmt.Errorf("typed value: empty")
		}
		switch x[0] {
		case 't':
			return x[1:], nil
		case 'i':
			n, err := strconv.ParseInt(x[1:], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("typed value: %w", err)
			}
			return n, nil
		}
		return nil, fmt.Errorf("typed value %.20q: no storage class tag", x)
	}
	return v, nil
}
