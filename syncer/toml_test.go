package syncer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// burntSushiParse is Parse as it was written on a full TOML decoder
// (github.com/BurntSushi/toml, which the CLI keeps for larder.toml): the
// reference parseTOML is checked against.
func burntSushiParse(data []byte) (*Config, []string, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	for _, k := range md.Undecoded() {
		keys = append(keys, k.String())
	}
	return &c, keys, nil
}

func rulesOf(c *Config) string {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(c.Tables)) {
		r := c.Tables[n]
		if r == nil {
			r = &TableRule{}
		}
		fmt.Fprintf(&b, "%q: owner=%q where=%q\n", n, r.Owner, r.Where)
	}
	return b.String()
}

// TestTOMLAgreesWithBurntSushi reads declarations with every construct a
// sync.toml can use, and some it cannot, with parseTOML and with a full
// TOML decoder: the same tables and rules, the same unknown keys (as a
// set), and an error from both or from neither.
func TestTOMLAgreesWithBurntSushi(t *testing.T) {
	texts := []string{
		"",
		"# nothing\n\n",
		"[tables.notes]\nowner = \"owner_id\"\n",
		"[tables.notes]\r\nowner = \"owner_id\" # trailing\r\n",
		"[tables]\nnotes = { owner = \"o\" }\nlists = {where='x = :sub'}\n",
		"tables.notes.owner = \"o\"\ntables.lists.where = \"a = :sub\"\n",
		"[tables]\nnotes.owner = \"o\"\n[tables.lists]\nwhere = \"w\"\n",
		"[ tables . \"my notes\" ]\nowner = 'o'\n",
		"[tables.'a.b']\n\"owner\" = \"o\"\n",
		"[tables.\"\\u00e9t\\u00E9\"]\nowner = \"o\"\n",
		"[tables.x]\nwhere = \"\"\"\nlist_id IN (\n  SELECT id FROM lists WHERE owner = :sub)\"\"\"\n",
		"[tables.x]\nwhere = \"\"\"a \\\n   b \\\n\n c\"\"\"\n",
		"[tables.x]\nwhere = '''\nraw \\n text ''quoted'''''\n",
		"[tables.x]\nwhere = \"tab\\there \\\"q\\\" back\\\\slash \\U0001F600\"\n",
		"[tables.x]\nwhere = \"\"\"one \"two\" \"\"three\"\"\"\"\"\n",
		"[tables.x]\nowner = \"o\"\nowners = \"x\"\n",
		"[tables.x]\nowner = \"o\"\n[meta]\nauthor = \"me\"\n[meta.sub]\nk = 'v'\n",
		"title = \"x\"\n[tables.x]\nowner = \"o\"\n",
		"[tables.x]\nowner = \"o\"\nextra = { a = 'b', c.d = 'e' }\n",
		"[tables]\na.owner = 'o'\n[tables.a.sub]\nk = 'v'\n",
		"[tables.x]\nowner = \"o\"\n[tables.x]\nwhere = \"w\"\n",
		"[tables.x]\nowner = \"o\"\nowner = \"p\"\n",
		"[tables]\nx = { owner = 'o' }\n[tables.x]\nwhere = 'w'\n",
		"[tables.x]\nowner = 'o'\n[tables]\nx.where = 'w'\n",
		"[tables.x]\nowner = 1\n",
		"[tables.x]\nowner = true\n",
		"[tables.x]\nowner = [\"a\"]\n",
		"[[tables.x]]\nowner = 'o'\n",
		"[tables.x\n",
		"[tables.x]\nowner = \"o\n",
		"[tables.x]\nowner = 'o' junk\n",
		"[tables.x]\nowner = \"\\q\"\n",
		"[tables.x]\nowner =\n",
		"[tables.x]\nowner = \"o\"\x00\n",
		"[tables.x]\nowner = \"\"\"never closed\n",
		"[tables.x]\nowner = { a = 'b' }\n",
		"tables = 'x'\n",
		"[tables]\nx = 'o'\n",
		"[tables.x]\n= 'o'\n",
		"[tables.x] # comment\nowner = 'o'",
		"\xef\xbb\xbf[tables.x]\nowner = 'o'\n",
		"  \t[tables.x]  \n\towner='o'\n",
		"[tables.\"\"]\nowner = 'o'\n",
		"[tables.x]\nowner = \"\\e\\x41\"\n",
		"[tables]\nx = {\n owner = 'o',\n}\n",
		"[tables.x]\r\nwhere = \"\"\"\r\na\r\nb\"\"\"\r\n",
		"[tables.x]\nowner = 'o'\n# comment at end without newline",
		"[tables.x]\nowner = 'a\x7fb'\n",
		"[tables.x]\nowner = \"\"\"\"\"\"\n",
		"[tables.x]\nowner = 'o'\n[tables.x.y]\nk='v'\n",
		"[tables.x]\nowner = \"\\ud800\"\n",
		"[tables.x]\nowner = \"\\U00110000\"\n",
	}
	for _, text := range texts {
		ref, refKeys, refErr := burntSushiParse([]byte(text))
		root, err := parseTOML(text)
		var c Config
		var keys []string
		if err == nil {
			keys, err = decodeConfig(root, &c)
		}
		if err != nil && refErr == nil && len(ref.Tables) == 0 {
			continue // ("tables = 'x'": BurntSushi reads no tables, Parse then refuses it too)
		}
		if (err == nil) != (refErr == nil) {
			t.Errorf("%q: parseTOML error %v, BurntSushi error %v", text, err, refErr)
			continue
		}
		if err != nil {
			continue
		}
		if got, want := rulesOf(&c), rulesOf(ref); got != want {
			t.Errorf("%q: parseTOML read\n%s, BurntSushi read\n%s", text, got, want)
		}
		slices.Sort(keys)
		slices.Sort(refKeys)
		if !slices.Equal(keys, refKeys) {
			t.Errorf("%q: unknown keys %q, BurntSushi %q", text, keys, refKeys)
		}
	}
}

// Errors name the line and what is wrong.
func TestTOMLErrorsNameTheLine(t *testing.T) {
	for text, want := range map[string]string{
		"[tables.x]\nowner = 1\n":                  "line 2: value 1: a sync declaration holds only strings",
		"[tables.x]\n\nowner = \"o\n":              "line 3: string not closed",
		"[tables.x]\nowner = 'o'\n[tables.x]\n":    "line 3: table tables.x is defined twice",
		"[[tables.x]]\n":                           "line 1: arrays of tables",
		"[tables.x]\nwhere = \"\"\"a\nb\"\"\" x\n": "line 3: unexpected",
	} {
		_, err := Parse([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", text, err, want)
		}
	}
}
