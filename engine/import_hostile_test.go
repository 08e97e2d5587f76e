package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/hostile"
)

// The hostile corpus through Database.ImportWith on the memory storage,
// natively: the same Go code larder.wasm runs, without a browser.
func TestImportHostileCorpusMemory(t *testing.T) {
	ctx := context.Background()
	cases, err := hostile.Cases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	migs, err := hostile.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, extra := range []bool{false, true} {
			want, name := c.Expect, c.Name
			if extra {
				want, name = c.ExpectExtra, c.Name+"/allow-extra-schema"
			}
			t.Run(name, func(t *testing.T) {
				h, _ := newHost(t)
				d, _, err := h.Open(ctx, OpenOptions{Name: "x", Storage: "memory", Migrations: migs})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := d.Exec(ctx, 0, "INSERT INTO note (body) VALUES ('kept')", Params{}); err != nil {
					t.Fatal(err)
				}
				err = d.ImportWith(ctx, c.Image, ImportOptions{AllowExtraSchema: extra})
				t.Logf("REPORT go-memory %-40s %v", name, err)
				_, rows := query(t, d, 0, "SELECT count(*) FROM note WHERE body = 'kept'", Params{})
				kept := rows[0][0]
				if want.Refused {
					if Classify(err).Code != CodeInvalidDatabase || !strings.Contains(err.Error(), want.Reason) {
						t.Fatalf("err = %v, want LARDER_INVALID_DATABASE naming %q", err, want.Reason)
					}
					if fmt.Sprint(kept) != "1" {
						t.Fatalf("refused import changed the database: kept %v", kept)
					}
				} else if err != nil || fmt.Sprint(kept) != "0" {
					t.Fatalf("import: %v, kept row %v", err, kept)
				}
				if err := h.Close("x"); err != nil {
					t.Fatal(err)
				}
				d, _, err = h.Open(ctx, OpenOptions{Name: "x", Storage: "memory", Migrations: migs})
				if err != nil {
					t.Fatalf("next open: %v", err)
				}
				if err := h.Reset(ctx, "x", "memory"); err != nil {
					t.Fatalf("reset: %v", err)
				}
			})
		}
	}
}
