package cli

import (
	"context"
	"fmt"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"io"
	"os"
	"strings"
)

func (p *Program) uninstallHelp() string {
	return fmt.Sprintf(`Usage: %[1]s uninstall --db FILE

Removes everything nakedhtmx added to the database: its _nakedhtmx_ tables,
triggers and indexes (in one transaction), and sets back the journal mode it
found at its first start. The user's tables and rows are not touched.

  --db FILE      SQLite database file (must exist), or a postgres:// URL
  --pg-schema N  Postgres: the schema served (public)
%[2]s  -h, --help     show this help
`, p.Name, p.ExtraHelp)
}

// uninstall is the `uninstall` subcommand (CONTRACT, "Launching").
func (p *Program) uninstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var db, pgSchema string
	flags := p.newFlagSet(p.Name + " uninstall")
	flags.StringVar(&db, "db", "", "")
	flags.StringVar(&pgSchema, "pg-schema", "", "")
	if err := p.parse(flags, args, stdout, p.uninstallHelp()); err != nil {
		return err
	}
	if db == "" {
		return usage("uninstall needs --db FILE (see --help)")
	}
	if !postgres.IsURL(db) {
		if _, err := os.Stat(db); err != nil {
			return usage("database %s: %v", db, unwrapPath(err))
		}
	}
	if p.Uninstall == nil {
		return usage("uninstall is not available in %s", p.Name)
	}
	removed, mode, err := p.Uninstall(ctx, db, pgSchema)
	if err != nil {
		return &failure{exitUsage, fmt.Errorf("database %s: %w", postgres.Shown(db), err)}
	}
	line := fmt.Sprintf("%s: removed %d objects from %s", p.Name, len(removed), postgres.Shown(db))
	if len(removed) > 0 {
		line += " (" + strings.Join(removed, ", ") + ")"
	}
	if mode != "" {
		line += "; journal mode set back to " + strings.ToUpper(mode)
	}
	fmt.Fprintln(stdout, line)
	return nil
}
