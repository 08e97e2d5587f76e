package syncer

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// Page sizes of Pull. A page reads at most maxWherePage rows of each
// where-rule table (each of their tombstones costs a query, and a Worker
// may make only so many D1 calls per request).
const (
	DefaultPage  = 200
	MaxPage      = 1000
	maxWherePage = 200
)

// Pull serves the user sub one page of the rows changed after req.Cursor
// that sub may see, in server sequence order: each row's current values
// with the HLC of each column, or its tombstone. It reads the sequence
// first and serves only rows up to it, with one query per synced table
// (the rows joined with their clocks, filtered by the ownership rule in
// SQL), so a page is consistent even where statements are not in one
// transaction (D1). Tombstones of where-rule tables are tested against the
// row's last image. Cursor is where the next page starts.
func (s *Server) Pull(ctx context.Context, sub string, req PullRequest) (PullResponse, error) {
	if sub == "" {
		return PullResponse{}, &Error{CodeForbidden, "pull: no user subject"}
	}
	_, upTo, err := s.helloSeq(ctx, req.Hello)
	if err != nil {
		return PullResponse{}, err
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	rows := []RowState{}
	if upTo <= req.Cursor {
		// Nothing changed since the cursor: one query in all (a device
		// polling an idle server).
		return PullResponse{Rows: rows, Cursor: req.Cursor}, nil
	}
	cutoff := max(upTo, req.Cursor)
	more := false
	for _, name := range s.schema.Config.TableNames() {
		t := s.schema.Tables[name]
		tl := limit
		if t.Rule.Where != "" {
			// Each tombstone of a where-rule table costs a query (its
			// last image is checked against the rule): fewer per page.
			tl = min(limit, maxWherePage)
		}
		got, last, err := s.pullTable(ctx, t, sub, req.Cursor, upTo, tl)
		if err != nil {
			return PullResponse{}, fmt.Errorf("sync: pull %s: %w", name, err)
		}
		rows = append(rows, got...)
		if last > 0 && last < cutoff {
			// This table filled its page: its rows after last are unread.
			cutoff, more = last, true
		}
	}
	slices.SortFunc(rows, func(a, b RowState) int { return cmp.Compare(a.Seq, b.Seq) })
	n := 0
	for n < len(rows) && rows[n].Seq <= cutoff {
		n++
	}
	rows = rows[:n]
	if len(rows) > limit {
		rows, cutoff, more = rows[:limit], rows[limit-1].Seq, true
	}
	return PullResponse{Rows: rows, Cursor: cutoff, More: more || cutoff < upTo}, nil
}

// pullTable reads up to limit rows of t with cursor < seq <= upTo that sub
// may see. When it read limit rows (more may follow), last is the sequence
// of the last one read; otherwise 0.
func (s *Server) pullTable(ctx context.Context, t *Table, sub string, cursor, upTo int64, limit int) (rows []RowState, last int64, err error) {
	names, cols := columnList(t, "t.")
	visible := "r.owner = ?1"
	if t.Rule.Where != "" {
		visible = fmt.Sprintf("(r.deleted IS NOT NULL OR EXISTS (SELECT 1 FROM %s WHERE %s.%s = r.pk AND (%s)))",
			quote(t.Name), quote(t.Name), quote(t.PK), numberSub(t.Rule.Where, 1))
	}
	q := fmt.Sprintf(`SELECT r.seq, r.pk, r.deleted, r.image,
		(SELECT json_group_object(c.col, c.hlc) FROM _sync_clock c WHERE c.tbl = r.tbl AND c.pk = r.pk),
		EXISTS (SELECT 1 FROM _sync_extra e WHERE e.tbl = r.tbl AND e.pk = r.pk),
		t.%s IS NOT NULL, %s
		FROM _sync_rows r LEFT JOIN %s AS t ON t.%s = r.pk AND r.deleted IS NULL
		WHERE r.tbl = ?2 AND r.seq > ?3 AND r.seq <= ?4 AND %s
		ORDER BY r.seq LIMIT ?5`, quote(t.PK), cols, quote(t.Name), quote(t.PK), visible)
	found, err := s.db.Query(ctx, q, sub, t.Name, cursor, upTo, int64(limit))
	if err != nil {
		return nil, 0, err
	}
	for _, r := range found {
		row := RowState{Table: t.Name, PK: r[1].(string), Seq: asInt(r[0])}
		switch {
		case r[2] != nil:
			row.Deleted = true
			if t.Rule.Where != "" {
				img := map[string]any{}
				if s, ok := r[3].(string); ok {
					if img, err = decodeImage(s); err != nil {
						return nil, 0, err
					}
				}
				if ok, err := t.visible(ctx, s.db, img, sub); err != nil || !ok {
					if err != nil {
						return nil, 0, err
					}
					continue
				}
			}
		case asInt(r[6]) == 0:
			continue // gone without a tombstone (ON DELETE CASCADE on the server): not served
		default:
			row.Cols, row.Clocks = map[string]Value{}, map[string]string{}
			for i, c := range names[1:] {
				v, err := untyped(r[8+i])
				if err != nil {
					return nil, 0, fmt.Errorf("%s column %s: %w", row.PK, c, err)
				}
				row.Cols[c] = Value{v}
			}
			if c, ok := r[4].(string); ok {
				if err := json.Unmarshal([]byte(c), &row.Clocks); err != nil {
					return nil, 0, fmt.Errorf("%s clocks: %w", row.PK, err)
				}
			}
			if asInt(r[5]) != 0 {
				if err := s.extras(ctx, &row); err != nil {
					return nil, 0, err
				}
			}
		}
		rows = append(rows, row)
	}
	if len(found) == limit {
		last = asInt(found[len(found)-1][0])
	}
	return rows, last, nil
}

func (s *Server) extras(ctx context.Context, row *RowState) error {
	extras, err := s.db.Query(ctx, "SELECT col, "+typed("val")+" FROM _sync_extra WHERE tbl = ? AND pk = ?", row.Table, row.PK)
	for _, e := range extras {
		if col := e[0].(string); !s.schema.Tables[row.Table].has(col) {
			v, err := untyped(e[1])
			if err != nil {
				return fmt.Errorf("%s extra column %s: %w", row.PK, col, err)
			}
			row.Cols[col] = Value{v}
		}
	}
	return err
}
