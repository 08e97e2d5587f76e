package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Transport carries a device's requests to a server: HTTP to the edge in
// the browser, or a Server in the same process (see Local).
type Transport interface {
	Push(ctx context.Context, req PushRequest) (PushResponse, error)
	Pull(ctx context.Context, req PullRequest) (PullResponse, error)
}

// Local is a Transport that calls a Server directly as the user Sub.
type Local struct {
	Server *Server
	Sub    string
}

var _ Transport = Local{}

// Push implements Transport.
func (l Local) Push(ctx context.Context, req PushRequest) (PushResponse, error) {
	return l.Server.Push(ctx, l.Sub, req)
}

// Pull implements Transport.
func (l Local) Pull(ctx context.Context, req PullRequest) (PullResponse, error) {
	return l.Server.Pull(ctx, l.Sub, req)
}

// Counts is what one Sync round did.
type Counts struct {
	Pushed   int         // changes the server now holds (accepted or already there)
	Rejected []Rejection // changes the server refused, removed from the outbox, each naming its row
	Pulled   int         // rows applied
	// Tables lists, sorted, the synced tables that pulled rows changed on
	// this device: the ones whose change events (live queries) to fire.
	Tables []string
}

// Sync runs one round: push the whole outbox in batches of MaxBatch, then
// pull pages until the server has no more. An error leaves everything
// consistent: what was acknowledged is out of the outbox, what was applied
// is applied with its cursor, and the next round carries on from there.
func (c *Client) Sync(ctx context.Context, tr Transport, hello Hello) (Counts, error) {
	var n Counts
	for {
		changes, err := c.Pending(MaxBatch)
		if err != nil || len(changes) == 0 {
			if err != nil {
				return n, err
			}
			break
		}
		resp, err := tr.Push(ctx, PushRequest{Hello: hello, Changes: changes})
		if err != nil {
			return n, fmt.Errorf("sync: push: %w", err)
		}
		if len(resp.Accepted)+len(resp.Duplicate)+len(resp.Rejected) == 0 {
			return n, errors.New("sync: push: the server answered none of the changes")
		}
		// Each rejection names its row as this device knows it.
		for i, r := range resp.Rejected {
			if j := slices.IndexFunc(changes, func(ch Change) bool { return ch.ID == r.ID }); j >= 0 {
				resp.Rejected[i].Table, resp.Rejected[i].PK = changes[j].Table, changes[j].PK
			}
		}
		if err := c.Ack(resp); err != nil {
			return n, err
		}
		n.Pushed += len(resp.Accepted) + len(resp.Duplicate)
		n.Rejected = append(n.Rejected, resp.Rejected...)
		for _, r := range resp.Rejected {
			if r.Gone && c.schema.Tables[r.Table] != nil && !slices.Contains(n.Tables, r.Table) {
				n.Tables = append(n.Tables, r.Table) // Ack dropped the row
			}
		}
	}
	for {
		cur, err := c.Cursor()
		if err != nil {
			return n, err
		}
		page, err := tr.Pull(ctx, PullRequest{Hello: hello, Cursor: cur, Limit: MaxPage})
		if err != nil {
			return n, fmt.Errorf("sync: pull: %w", err)
		}
		if err := c.Apply(ctx, cur, page); err != nil {
			return n, err
		}
		n.Pulled += len(page.Rows)
		for _, r := range page.Rows {
			if c.schema.Tables[r.Table] != nil && !slices.Contains(n.Tables, r.Table) {
				n.Tables = append(n.Tables, r.Table)
			}
		}
		slices.Sort(n.Tables)
		if !page.More {
			return n, nil
		}
	}
}
