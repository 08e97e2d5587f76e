package migrations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// BundleEntry is one migration in the JSON bundle that `larder migrate
// bundle` writes and the JS API (open({migrations: url})) and the edge
// Worker read.
type BundleEntry struct {
	Version  int64   `json:"version"`
	Name     string  `json:"name"`
	Up       string  `json:"up"`
	Down     *string `json:"down"` // null: no down part
	Checksum string  `json:"checksum"`
	Breaking bool    `json:"breaking"`
	UpLine   int     `json:"up_line,omitempty"`
	DownLine int     `json:"down_line,omitempty"`
	// NoTransaction and DownNoTransaction carry the file's request to run
	// a part outside a transaction ([Migration.NoTransaction]).
	NoTransaction     bool `json:"no_transaction,omitempty"`
	DownNoTransaction bool `json:"down_no_transaction,omitempty"`
	// UpStatements and DownStatements are the parts split into statements
	// by SQLite at bundle time (package migrations/sqlite, SplitStatements),
	// for runners without SQLite's parser: the D1 Worker. Optional.
	UpStatements   []Statement `json:"up_statements,omitempty"`
	DownStatements []Statement `json:"down_statements,omitempty"`
}

// A Statement is one SQL statement of a migration part and the 1-based line
// of the migration file where it starts.
type Statement struct {
	SQL  string `json:"sql"`
	Line int    `json:"line"`
}

// Bundle encodes SQL migrations as a JSON array in version order. Code
// migrations cannot be bundled.
func Bundle(migs []*Migration) ([]byte, error) {
	sorted, err := Sort(migs)
	if err != nil {
		return nil, err
	}
	out := make([]BundleEntry, 0, len(sorted))
	for _, m := range sorted {
		if m.IsCode() {
			return nil, fmt.Errorf("migrate: bundle: %s is a Go migration and cannot be bundled", m.Label())
		}
		e := BundleEntry{Version: m.Version, Name: m.Name, Up: m.Up, Checksum: m.Checksum,
			Breaking: m.Breaking, UpLine: m.UpLine, DownLine: m.DownLine,
			NoTransaction: m.NoTransaction, DownNoTransaction: m.DownNoTransaction,
			UpStatements: m.UpStatements, DownStatements: m.DownStatements}
		if m.HasDown {
			down := m.Down
			e.Down = &down
		}
		out = append(out, e)
	}
	return json.MarshalIndent(out, "", "  ")
}

// BundleWithSync is [Bundle] carrying the sync declaration beside the
// migrations (the text of sync.toml, see package syncer): the bundle is then
// an object {"migrations": [...], "sync": "..."} instead of the bare array,
// so open({migrations: url, sync: {url, token}}) needs no separate config.
// An empty sync gives the bare array of [Bundle].
func BundleWithSync(migs []*Migration, sync string) ([]byte, error) {
	b, err := Bundle(migs)
	if err != nil || sync == "" {
		return b, err
	}
	return json.MarshalIndent(struct {
		Migrations json.RawMessage `json:"migrations"`
		Sync       string          `json:"sync"`
	}{b, sync}, "", "  ")
}

// bundleObject is the object form of a bundle (see [BundleWithSync]).
type bundleObject struct {
	Migrations []BundleEntry `json:"migrations"`
	Sync       *string       `json:"sync"`
}

// ParseBundle decodes a bundle. A checksum that does not match the up part
// means the bundle was edited by hand or corrupted, and is an error; a
// missing checksum is computed. A NUL byte or invalid UTF-8, in the bundle
// or in a migration's text, is refused as [CheckText] refuses it in a file
// (JSON decoding would otherwise replace invalid UTF-8 with U+FFFD).
func ParseBundle(data []byte) ([]*Migration, error) {
	migs, _, err := ParseBundleSync(data)
	return migs, err
}

// ParseBundleSync is [ParseBundle] that also returns the sync declaration
// an object bundle carries ("" when none; see [BundleWithSync]).
func ParseBundleSync(data []byte) ([]*Migration, string, error) {
	if err := CheckText("bundle", data, 1); err != nil {
		return nil, "", fmt.Errorf("migrate: %w", err)
	}
	var entries []BundleEntry
	sync := ""
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var obj bundleObject
		if err := dec.Decode(&obj); err != nil {
			return nil, "", fmt.Errorf("migrate: bundle: %w: not a bundle object {\"migrations\": [...], \"sync\": \"...\"}: %v", ErrBadFile, err)
		}
		if obj.Migrations == nil {
			return nil, "", fmt.Errorf("migrate: bundle: %w: the bundle object has no \"migrations\" array", ErrBadFile)
		}
		entries = obj.Migrations
		if obj.Sync != nil {
			sync = *obj.Sync
		}
	} else if err := json.Unmarshal(data, &entries); err != nil {
		return nil, "", fmt.Errorf("migrate: bundle: %w: not a JSON array of migrations: %v", ErrBadFile, err)
	}
	migs := make([]*Migration, 0, len(entries))
	for i, e := range entries {
		m, err := e.Migration()
		if err != nil {
			return nil, "", fmt.Errorf("migrate: bundle entry %d: %w", i, err)
		}
		migs = append(migs, m)
	}
	if len(migs) == 0 {
		return nil, "", fmt.Errorf("migrate: bundle: %w", ErrNoMigrations)
	}
	migs, err := Sort(migs)
	return migs, sync, err
}

// Migration converts a bundle entry, checking its text (as [CheckText]),
// its checksum and breaking flag against its up part. The browser and the
// edge Worker decode bundles with it.
func (e BundleEntry) Migration() (*Migration, error) {
	if e.Version <= 0 || e.Name == "" {
		return nil, fmt.Errorf("%w: version %d name %q: want a positive version and a name", ErrBadFile, e.Version, e.Name)
	}
	m := &Migration{Version: e.Version, Name: e.Name, Up: e.Up, Breaking: e.Breaking,
		UpLine: max(e.UpLine, 1), DownLine: e.DownLine,
		NoTransaction: e.NoTransaction, DownNoTransaction: e.DownNoTransaction,
		UpStatements: e.UpStatements, DownStatements: e.DownStatements}
	if e.Down != nil {
		m.Down, m.HasDown = *e.Down, true
	}
	if err := checkString(m.Label(), e.Name, 0); err != nil {
		return nil, err
	}
	if err := checkString(m.Label(), m.Up, m.UpLine); err != nil {
		return nil, err
	}
	if err := checkString(m.Label(), m.Down, max(m.DownLine, 1)); err != nil {
		return nil, err
	}
	for _, s := range append(slices.Clone(e.UpStatements), e.DownStatements...) {
		if err := checkString(m.Label(), s.SQL, s.Line); err != nil {
			return nil, err
		}
	}
	m.Checksum = Checksum(m.Up)
	if e.Checksum != "" && e.Checksum != m.Checksum {
		return nil, fmt.Errorf("%w: %s: checksum %s does not match its up part (%s)", ErrBadFile, m.Label(), e.Checksum, m.Checksum)
	}
	for _, l := range splitLines(e.Up) {
		if marker(l) == "breaking" {
			m.Breaking = true
		}
	}
	m.NoForeignKeys = hasRebuild(m.Up) || hasRebuild(m.Down)
	return m, nil
}
