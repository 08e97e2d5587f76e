package syncer

import (
	"fmt"
	"strconv"
	"strings"
)

// An HLC is a hybrid logical clock reading
// (https://cse.buffalo.edu/tech-reports/2014-04.pdf): physical Unix
// milliseconds, a counter that orders events within one millisecond (and
// keeps order when a device's clock runs behind one it has heard from), and
// the id of the node (device database) that made it. Its text form,
//
//	001764950400123-0000000000-9f86d081884c7d65
//
// (15-digit ms, 10-digit counter, node id of lowercase hex) is written by
// the capture triggers with printf and compares correctly as a string, so
// SQLite and Go order HLCs the same way. Two readings with the same
// milliseconds and counter are ordered by node id: a deterministic
// tie-break every device computes alike.
type HLC struct {
	Millis  int64
	Counter int64
	Node    string
}

// hlcSQLFormat is the printf format the capture triggers use.
const hlcSQLFormat = "%015d-%010d-%s"

// String is the canonical text form.
func (h HLC) String() string {
	return fmt.Sprintf("%015d-%010d-%s", h.Millis, h.Counter, h.Node)
}

// ParseHLC reads the text form written by String and by the triggers.
func ParseHLC(s string) (HLC, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) != 15 || len(parts[1]) != 10 || !isNodeID(parts[2]) {
		return HLC{}, fmt.Errorf("hlc %q: want MMMMMMMMMMMMMMM-CCCCCCCCCC-<node hex>", s)
	}
	ms, err1 := strconv.ParseInt(parts[0], 10, 64)
	ctr, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || ms < 0 || ctr < 0 {
		return HLC{}, fmt.Errorf("hlc %q: milliseconds and counter must be decimal digits", s)
	}
	return HLC{Millis: ms, Counter: ctr, Node: parts[2]}, nil
}

func isNodeID(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Compare orders two readings: milliseconds, then counter, then node id.
// It agrees with comparing their String forms.
func (h HLC) Compare(o HLC) int {
	switch {
	case h.Millis != o.Millis:
		return cmpInt(h.Millis, o.Millis)
	case h.Counter != o.Counter:
		return cmpInt(h.Counter, o.Counter)
	}
	return strings.Compare(h.Node, o.Node)
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	return 1
}
