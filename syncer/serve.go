package syncer

import (
	"context"
	"fmt"
	"strings"
)

// Page sizes of Pull.
const (
	DefaultPage = 200
	MaxPage     = 1000
)

// Pull serves the user sub one page of the rows changed after req.Cursor
// that sub may see, in server sequence order: each row's current values
// with the HLC of each column, or its tombstone. Rows of owner-rule tables
// are filtered in SQL; rows of where-rule tables are tested one by one
// against the rule (a tombstone against the row's last image). The page's
// Cursor is the sequence of the last row examined, visible or not.
func (s *Server) Pull(ctx context.Context, sub string, req PullRequest) (PullResponse, error) {
	if sub == "" {
		return PullResponse{}, &Error{CodeForbidden, "pull: no user subject"}
	}
	if _, err := s.hello(ctx, req.Hello); err != nil {
		return PullResponse{}, err
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	resp := PullResponse{Rows: []RowState{}, Cursor: req.Cursor}
	tables := s.schema.Config.TableNames()
	marks := strings.TrimSuffix(strings.Repeat("?,", len(tables)), ",")
	for len(resp.Rows) < limit {
		args := []any{resp.Cursor, sub}
		for _, t := range tables {
			args = append(args, t)
		}
		args = append(args, int64(limit-len(resp.Rows)))
		cand, err := s.db.Query(ctx, `SELECT tbl, pk, seq, deleted, image FROM _sync_rows
			WHERE seq > ? AND (owner = ? OR owner IS NULL) AND tbl IN (`+marks+`) ORDER BY seq LIMIT ?`, args...)
		if err != nil {
			return PullResponse{}, fmt.Errorf("sync: pull: %w", err)
		}
		for _, c := range cand {
			row, ok, err := s.rowFor(ctx, sub, c)
			if err != nil {
				return PullResponse{}, fmt.Errorf("sync: pull %s %s: %w", c[0], c[1], err)
			}
			if ok {
				resp.Rows = append(resp.Rows, row)
			}
			resp.Cursor = asInt(c[2])
		}
		if int64(len(cand)) < args[len(args)-1].(int64) {
			return resp, nil
		}
	}
	more, err := s.db.Query(ctx, "SELECT 1 FROM _sync_rows WHERE seq > ? LIMIT 1", resp.Cursor)
	if err != nil {
		return PullResponse{}, fmt.Errorf("sync: pull: %w", err)
	}
	resp.More = len(more) > 0
	return resp, nil
}

// rowFor builds the RowState of one _sync_rows line if sub may see it.
func (s *Server) rowFor(ctx context.Context, sub string, c []any) (RowState, bool, error) {
	t := s.schema.Tables[c[0].(string)]
	row := RowState{Table: t.Name, PK: c[1].(string), Seq: asInt(c[2])}
	if c[3] != nil {
		row.Deleted = true
		img := map[string]any{}
		if s, ok := c[4].(string); ok {
			var err error
			if img, err = decodeImage(s); err != nil {
				return row, false, err
			}
		}
		ok, err := t.visible(ctx, s.db, img, sub)
		return row, ok, err
	}
	cols := append([]string{t.PK}, t.Columns...)
	qcols := make([]string, len(cols))
	for i, c := range cols {
		qcols[i] = quote(c)
	}
	vals, err := s.db.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", strings.Join(qcols, ", "), quote(t.Name), quote(t.PK)), row.PK)
	if err != nil || len(vals) == 0 {
		return row, false, err // gone without a tombstone (ON DELETE CASCADE on the server): not served
	}
	img := map[string]any{}
	row.Cols, row.Clocks = map[string]Value{}, map[string]string{}
	for i, c := range cols {
		img[c] = vals[0][i]
		if i > 0 {
			row.Cols[c] = Value{vals[0][i]}
		}
	}
	if ok, err := t.visible(ctx, s.db, img, sub); err != nil || !ok {
		return row, false, err
	}
	extras, err := s.db.Query(ctx, "SELECT col, val FROM _sync_extra WHERE tbl = ? AND pk = ?", t.Name, row.PK)
	if err != nil {
		return row, false, err
	}
	for _, e := range extras {
		row.Cols[e[0].(string)] = Value{e[1]}
	}
	clocks, err := s.db.Query(ctx, "SELECT col, hlc FROM _sync_clock WHERE tbl = ? AND pk = ?", t.Name, row.PK)
	if err != nil {
		return row, false, err
	}
	for _, k := range clocks {
		row.Clocks[k[0].(string)] = k[1].(string)
	}
	return row, true, nil
}
