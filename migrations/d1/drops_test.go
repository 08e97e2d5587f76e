package d1

import "testing"

func TestDroppedTable(t *testing.T) {
	for in, want := range map[string]string{
		"DROP TABLE authors;":                     "authors",
		"drop table if exists main.authors":       "authors",
		"DROP TABLE \"odd \"\"name\"\"\";":        `odd "name"`,
		"DROP  TABLE\n  `tick`":                   "tick",
		"DROP TABLE [brackets]":                   "brackets",
		"DROP TABLE \"main\" . \"quoted_schema\"": "quoted_schema",
	} {
		if got, ok := droppedTable(in); !ok || got != want {
			t.Errorf("droppedTable(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"DROP INDEX authors_name", "DROP VIEW v", "SELECT 'DROP TABLE x'", "DROP TRIGGER t"} {
		if got, ok := droppedTable(in); ok {
			t.Errorf("droppedTable(%q) = %q", in, got)
		}
	}
}
