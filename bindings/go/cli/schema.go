package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/httphost"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

func (p *Program) schemaHelp() string {
	return fmt.Sprintf(`Usage: %[1]s schema --db FILE --out DIR

Writes TABLE.schema.json (the table's JSON Schema, as GET /api/schema/TABLE
answers it) and TABLE.ui.json (its UI schema) for every table and view, with
TABLE escaped as by JavaScript's encodeURIComponent, then exits 0.

  --db FILE      SQLite database file; must exist (default %[2]s); or a postgres:// URL
  --pg-schema N  Postgres: the schema served (public)
  --out DIR      directory to write into, created when missing (required)
  --config FILE  labels, widgets, ... that shape the UI schemas (default %[3]s when present)
%[4]s  -h, --help     show this help
`, p.Name, defaultDB, defaultConfig, p.ExtraHelp)
}

// schema is the `schema` subcommand. It asks the core itself, through the same
// requests a client would send, so the files are exactly what the API serves.
func (p *Program) schema(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db, out, config, pgSchema string
	flags := p.newFlagSet(p.Name + " schema")
	flags.StringVar(&db, "db", defaultDB, "")
	flags.StringVar(&pgSchema, "pg-schema", "", "")
	flags.StringVar(&out, "out", "", "")
	flags.StringVar(&config, "config", defaultConfig, "")
	if err := p.parse(flags, args, stdout, p.schemaHelp()); err != nil {
		return err
	}
	configSet := false
	flags.Visit(func(fl *flag.Flag) { configSet = configSet || fl.Name == "config" })
	if out == "" {
		return usage("schema needs --out DIR (see --help)")
	}
	// Unlike serving, a missing database is a mistake here: creating an empty
	// one would only write an empty schema set.
	if !postgres.IsURL(db) {
		if _, err := os.Stat(db); err != nil {
			return usage("database %s: %v", db, unwrapPath(err))
		}
	}
	raw, err := readConfig(config, configSet)
	if err != nil {
		return err
	}
	backend, err := p.Open(ctx, OpenOptions{DB: db, Config: raw, Log: stderr, PGSchema: pgSchema})
	if err != nil {
		return &failure{exitUsage, err}
	}
	defer backend.Close()
	n, err := WriteSchemas(backend, out)
	if err != nil {
		return err
	}
	if err := backend.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	fmt.Fprintf(stdout, "%s: wrote the schemas of %d tables to %s\n", p.Name, n, out)
	return nil
}

// WriteSchemas writes NAME.schema.json and NAME.ui.json into dir for every
// table in the core's GET /api/schema answer and returns how many tables it
// wrote.
func WriteSchemas(h httphost.Handler, dir string) (int, error) {
	body, err := getJSON(h, "/api/schema")
	if err != nil {
		return 0, err
	}
	var doc struct {
		Tables map[string]struct {
			Schema json.RawMessage `json:"schema"`
			UI     json.RawMessage `json:"ui"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Tables == nil {
		return 0, fmt.Errorf("GET /api/schema: no \"tables\" object in the answer")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	names := make([]string, 0, len(doc.Tables))
	for name := range doc.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		file := EncodeURIComponent(name)
		schema, err := getJSON(h, "/api/schema/"+file)
		if err != nil {
			return 0, err
		}
		if err := writeFile(filepath.Join(dir, file+".schema.json"), schema); err != nil {
			return 0, err
		}
		if err := writeFile(filepath.Join(dir, file+".ui.json"), doc.Tables[name].UI); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

// getJSON answers a GET through the core, following continuations.
func getJSON(h httphost.Handler, path string) ([]byte, error) {
	res, err := httphost.Collect(h, &protocol.Request{RequestHead: protocol.RequestHead{
		Method: "GET", Path: path, Headers: map[string]string{"accept": "application/json", "host": "localhost"}}})
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if res.Status != 200 {
		return nil, fmt.Errorf("GET %s: status %d: %.200s", path, res.Status, res.Body)
	}
	return res.Body, nil
}

func writeFile(path string, b []byte) error {
	if len(b) == 0 {
		return errors.New(path + ": the core gave no content")
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return nil
}

// EncodeURIComponent escapes s exactly as JavaScript's encodeURIComponent
// does, so the Go and JS hosts name the schema files alike: every UTF-8 byte
// except A-Z a-z 0-9 - _ . ! ~ * ' ( ) becomes %XX (upper-case hex). A byte
// that is not valid UTF-8 (JS strings cannot hold one) is escaped as itself,
// which keeps distinct names distinct.
func EncodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			out = append(out, c)
			continue
		}
		switch c {
		case '-', '_', '.', '!', '~', '*', '\'', '(', ')':
			out = append(out, c)
		default:
			out = append(out, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(out)
}
