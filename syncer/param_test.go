package syncer

import "testing"

func TestNumberSub(t *testing.T) {
	for in, want := range map[string]string{
		"owner = :sub":                               "owner = ?3",
		"a = :sub OR b = :sub":                       "a = ?3 OR b = ?3",
		"x = ':sub' AND y = :sub":                    "x = ':sub' AND y = ?3",
		`":sub" = :sub`:                              `":sub" = ?3`,
		"[:sub] = :sub -- :sub\n AND 1":              "[:sub] = ?3 -- :sub\n AND 1",
		"/* :sub */ :subject = :sub":                 "/* :sub */ :subject = ?3",
		"o = 'it''s :sub' AND :sub IS NOT NULL":      "o = 'it''s :sub' AND ?3 IS NOT NULL",
		"list_id IN (SELECT id FROM l WHERE o=:sub)": "list_id IN (SELECT id FROM l WHERE o=?3)",
	} {
		if got := numberSub(in, 3); got != want {
			t.Errorf("numberSub(%q) = %q, want %q", in, got, want)
		}
	}
}
