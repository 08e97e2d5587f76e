package hostile

import "testing"

func TestCasesBuild(t *testing.T) {
	cases, err := Cases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 15 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		if c.Description == "" || len(c.Image) == 0 {
			t.Errorf("%s: description %q, %d bytes", c.Name, c.Description, len(c.Image))
		}
		t.Logf("%-28s %7d bytes  expect %s; with allowExtraSchema %s", c.Name, len(c.Image), c.Expect, c.ExpectExtra)
	}
}
