package syncer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FileName is the declaration file read beside the migrations.
const FileName = "sync.toml"

// Config is what syncs: the parsed sync.toml. Both sides read the same
// file: the device to install its capture triggers, the edge to check
// ownership and to serve each user their rows.
//
//	# sync.toml, beside the migrations
//	[tables.notes]
//	owner = "owner_id"     # the row belongs to the user whose token subject equals notes.owner_id
//
//	[tables.list_items]
//	where = "list_id IN (SELECT id FROM lists WHERE owner_id = :sub)"
//
// Every table is given exactly one rule: owner names a column compared with
// the subject (sub) of the user's token; where is an SQL expression over the
// row's columns in which :sub is the subject, true when the user may see and
// write the row. Tables not named here do not sync.
type Config struct {
	Tables map[string]*TableRule `toml:"tables"`
}

// The declaration is TOML, read by parseTOML (toml.go), which knows the
// part of TOML a declaration can use; the tags above say which keys.

// TableRule is the ownership rule of one synced table.
type TableRule struct {
	Owner string `toml:"owner"`
	Where string `toml:"where"`
}

// TableNames lists the synced tables in name order.
func (c *Config) TableNames() []string {
	names := make([]string, 0, len(c.Tables))
	for n := range c.Tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ErrNoConfig is returned by LoadDir when the directory has no sync.toml.
var ErrNoConfig = errors.New("sync: no " + FileName)

// LoadDir reads DIR/sync.toml. A directory without one returns an error
// wrapping ErrNoConfig (the project does not sync).
func LoadDir(dir string) (*Config, error) {
	return Load(os.DirFS(dir), ".")
}

// Load reads sync.toml from dir in fsys.
func Load(fsys fs.FS, dir string) (*Config, error) {
	path := filepath.ToSlash(filepath.Join(dir, FileName))
	data, err := fs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoConfig, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	return Parse(data)
}

// Parse reads the text of a sync.toml and checks its shape (not yet the
// schema: see Check).
func Parse(data []byte) (*Config, error) {
	var c Config
	root, err := parseTOML(string(data))
	if err != nil {
		return nil, fmt.Errorf("sync: %s: %w", FileName, err)
	}
	unknown, err := decodeConfig(root, &c)
	if err != nil {
		return nil, fmt.Errorf("sync: %s: %w", FileName, err)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("sync: %s: unknown keys %s (a table takes owner or where)", FileName, strings.Join(unknown, ", "))
	}
	if len(c.Tables) == 0 {
		return nil, fmt.Errorf("sync: %s names no table: add [tables.NAME] with owner = \"COLUMN\"", FileName)
	}
	for _, name := range c.TableNames() {
		r := c.Tables[name]
		if r == nil {
			return nil, fmt.Errorf("sync: table %s: no rule", name)
		}
		r.Owner, r.Where = strings.TrimSpace(r.Owner), strings.TrimSpace(r.Where)
		switch {
		case r.Owner == "" && r.Where == "":
			return nil, fmt.Errorf("sync: table %s: give owner = \"COLUMN\" or where = \"SQL over :sub\"", name)
		case r.Owner != "" && r.Where != "":
			return nil, fmt.Errorf("sync: table %s: give owner or where, not both", name)
		}
		low := strings.ToLower(name)
		if strings.HasPrefix(low, "sqlite_") || strings.HasPrefix(low, "_sync_") || low == "_migrations" {
			return nil, fmt.Errorf("sync: table %s: SQLite's and Larder's own tables do not sync", name)
		}
	}
	return &c, nil
}
