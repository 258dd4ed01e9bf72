// Command pocketbase is the stock PocketBase app (serve, superuser, ...) plus
// one extra command, load, that fills a data dir from the tables of a SQLite
// file. It is the PocketBase peer of the benchmark harness; see README.md.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/spf13/cobra"
)

// maxId is the largest key that still fits the 15-character record id.
const maxId = 999_999_999_999_999

func main() {
	app := pocketbase.New()

	// No superuser is needed for the public records API, so do not print
	// (or try to open a browser on) the first-run installer link.
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.InstallerFunc = nil
		return e.Next()
	})

	// pocketbase.Execute ignores the command's error (the process would exit
	// 0), so remember it and exit non-zero ourselves after a clean shutdown.
	var loadErr error
	app.RootCmd.AddCommand(newLoadCommand(app, &loadErr))

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
	if loadErr != nil {
		os.Exit(1)
	}
}

func newLoadCommand(app *pocketbase.PocketBase, errOut *error) *cobra.Command {
	var from string
	var tables []string
	var replace bool

	cmd := &cobra.Command{
		Use:   "load --from FILE.sqlite [--table NAME ...]",
		Short: "Create a public base collection per table of a SQLite file and copy its rows",
		Long: `Creates, for each named table of the SQLite file (opened read-only), a base
collection of the same name with one number/text field per column and public
list/view/create rules, then copies every row with plain SQL in one
transaction. Record ids are the row's integer primary key (or rowid) zero-padded
to 15 digits. Without --table, every table of the file is loaded.`,
		SilenceUsage: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				*errOut = fmt.Errorf("unexpected argument %q", args[0])
			} else if from == "" {
				*errOut = errors.New("--from FILE.sqlite is required")
			}
			return *errOut
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			*errOut = load(cmd.Context(), app, from, tables, replace)
			return *errOut
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		*errOut = err
		return err
	})
	cmd.Flags().StringVar(&from, "from", "", "the source SQLite file (required)")
	cmd.Flags().StringSliceVar(&tables, "table", nil, "a table to load (repeatable or comma-separated; default: all tables)")
	cmd.Flags().BoolVar(&replace, "replace", false, "delete an existing collection of the same name first (default: fail)")
	return cmd
}

type column struct {
	name     string
	declType string
	pk       int
}

type tablePlan struct {
	name    string
	keyExpr string   // quoted source expression giving the integer key
	cols    []column // copied columns (the key column is dropped when it is named id)
	fields  []core.Field
}

func load(ctx context.Context, app core.App, from string, tables []string, replace bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	abs, err := filepath.Abs(from)
	if err != nil {
		return err
	}
	if st, err := os.Stat(abs); err != nil {
		return fmt.Errorf("source: %w", err)
	} else if st.IsDir() {
		return fmt.Errorf("source %s is a directory", abs)
	}
	// file: URI so that SQLite itself opens the file read-only (the modernc
	// driver passes SQLITE_OPEN_URI); used both here and for ATTACH below.
	srcURI := (&url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro"}).String()

	src, err := sql.Open("sqlite", srcURI)
	if err != nil {
		return err
	}
	defer src.Close()

	if len(tables) == 0 {
		rows, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			tables = append(tables, n)
		}
		rows.Close()
		if len(tables) == 0 {
			return fmt.Errorf("source %s has no tables", abs)
		}
	}

	// 1. Plan every table before touching the data dir.
	plans := make([]*tablePlan, 0, len(tables))
	seen := map[string]bool{}
	for _, t := range tables {
		if seen[strings.ToLower(t)] {
			return fmt.Errorf("table %q given twice", t)
		}
		seen[strings.ToLower(t)] = true
		p, err := planTable(ctx, src, t)
		if err != nil {
			return fmt.Errorf("table %q: %w", t, err)
		}
		plans = append(plans, p)
	}
	src.Close()

	// 2. Create the collections (schema only, through the normal Save path).
	for _, p := range plans {
		if existing, err := app.FindCollectionByNameOrId(p.name); err == nil {
			if !replace {
				return fmt.Errorf("collection %q already exists in %s (use a fresh --dir, or --replace)", existing.Name, app.DataDir())
			}
			if err := app.Delete(existing); err != nil {
				return fmt.Errorf("replace collection %q: %w", existing.Name, err)
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		c := core.NewBaseCollection(p.name)
		c.ListRule = types.Pointer("")
		c.ViewRule = types.Pointer("")
		c.CreateRule = types.Pointer("")
		for _, f := range p.fields {
			c.Fields.Add(f)
		}
		if err := app.Save(c); err != nil {
			return fmt.Errorf("create collection %q: %w", p.name, err)
		}
	}

	// 3. Copy the rows: attach the source read-only to one connection of the
	// data DB and INSERT ... SELECT every table inside a single transaction.
	// This bypasses record hooks and validation on purpose (speed).
	db, ok := app.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return fmt.Errorf("unexpected data DB type %T", app.NonconcurrentDB())
	}
	conn, err := db.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, srcURI); err != nil {
		return fmt.Errorf("attach source: %w", err)
	}
	defer conn.ExecContext(context.Background(), `DETACH DATABASE src`)

	start := time.Now()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	counts := make([]int64, len(plans))
	durs := make([]time.Duration, len(plans))
	for i, p := range plans {
		t0 := time.Now()
		res, err := tx.ExecContext(ctx, p.insertSQL())
		if err != nil {
			return fmt.Errorf("copy %q: %w", p.name, err)
		}
		counts[i], _ = res.RowsAffected()
		durs[i] = time.Since(t0)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for i, p := range plans {
		fmt.Printf("loaded %s: %d rows in %s\n", p.name, counts[i], durs[i].Round(time.Millisecond))
	}
	fmt.Printf("committed in %s total\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func planTable(ctx context.Context, src *sql.DB, name string) (*tablePlan, error) {
	var typ string
	var withoutRowid bool
	err := src.QueryRowContext(ctx, `SELECT type, wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`, name).Scan(&typ, &withoutRowid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("no such table in the source file")
	} else if err != nil {
		return nil, err
	}
	if typ != "table" {
		return nil, fmt.Errorf("is a %s, not a table", typ)
	}

	rows, err := src.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return nil, err
	}
	var all []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.declType, &c.pk); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// The record id comes from the rowid: the INTEGER PRIMARY KEY column when
	// the table has one (it aliases the rowid), else the rowid itself.
	keyCol := ""
	var pks []column
	for _, c := range all {
		if c.pk > 0 {
			pks = append(pks, c)
		}
	}
	if len(pks) == 1 && strings.EqualFold(strings.TrimSpace(pks[0].declType), "INTEGER") && !withoutRowid {
		keyCol = pks[0].name
	}
	p := &tablePlan{name: name}
	if keyCol != "" {
		p.keyExpr = quoteIdent(keyCol)
	} else {
		if withoutRowid {
			return nil, errors.New("WITHOUT ROWID table without an INTEGER PRIMARY KEY: no integer key for the record id")
		}
		for _, alias := range []string{"rowid", "_rowid_", "oid"} {
			if !hasColumn(all, alias) {
				p.keyExpr = alias
				break
			}
		}
		if p.keyExpr == "" {
			return nil, errors.New("columns shadow rowid, _rowid_ and oid: no integer key for the record id")
		}
	}

	var lo, hi sql.NullInt64
	if err := src.QueryRowContext(ctx, `SELECT min(`+p.keyExpr+`), max(`+p.keyExpr+`) FROM `+quoteIdent(name)).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	if lo.Valid && (lo.Int64 < 0 || hi.Int64 > maxId) {
		return nil, fmt.Errorf("key range [%d, %d] does not fit a 15-digit record id", lo.Int64, hi.Int64)
	}

	for _, c := range all {
		if strings.EqualFold(c.name, core.FieldNameId) {
			if c.name == keyCol {
				continue // its value is the record id, parse it back with strconv.Atoi
			}
			return nil, fmt.Errorf("column %q clashes with the PocketBase record id and is not the INTEGER PRIMARY KEY", c.name)
		}
		p.cols = append(p.cols, c)
	}

	// Number or text is decided by the declared type's affinity and then by
	// the stored values, in one scan: a numeric column holding any text or
	// blob (e.g. DATETIME columns with ISO strings) becomes a text field, and
	// an INTEGER one is onlyInt when it holds no reals.
	var probes []string
	for _, c := range p.cols {
		if a := affinity(c.declType); a == "INTEGER" || a == "REAL" || a == "NUMERIC" {
			q := quoteIdent(c.name)
			probes = append(probes,
				"coalesce(max(typeof("+q+") IN ('text', 'blob')), 0)",
				"coalesce(max(typeof("+q+") = 'real'), 0)")
		}
	}
	flags := make([]bool, len(probes))
	if len(probes) > 0 {
		dest := make([]any, len(flags))
		for i := range flags {
			dest[i] = &flags[i]
		}
		if err := src.QueryRowContext(ctx, `SELECT `+strings.Join(probes, ", ")+` FROM `+quoteIdent(name)).Scan(dest...); err != nil {
			return nil, err
		}
	}
	for _, c := range p.cols {
		var f core.Field = &core.TextField{Name: c.name}
		if a := affinity(c.declType); a == "INTEGER" || a == "REAL" || a == "NUMERIC" {
			hasText, hasReal := flags[0], flags[1]
			flags = flags[2:]
			if !hasText {
				f = &core.NumberField{Name: c.name, OnlyInt: a == "INTEGER" && !hasReal}
			}
		}
		p.fields = append(p.fields, f)
	}
	return p, nil
}

// insertSQL copies src.T into main.T. The PocketBase columns are NOT NULL
// with defaults, so NULLs become 0 (number) or "" (text).
func (p *tablePlan) insertSQL() string {
	dst := []string{quoteIdent(core.FieldNameId)}
	sel := []string{"printf('%015d', " + p.keyExpr + ")"}
	for i, c := range p.cols {
		dst = append(dst, quoteIdent(c.name))
		q := quoteIdent(c.name)
		switch p.fields[i].(type) {
		case *core.NumberField:
			sel = append(sel, "coalesce("+q+", 0)")
		default:
			if affinity(c.declType) == "TEXT" {
				sel = append(sel, "coalesce("+q+", '')")
			} else {
				sel = append(sel, "coalesce(CAST("+q+" AS TEXT), '')")
			}
		}
	}
	return "INSERT INTO main." + quoteIdent(p.name) + " (" + strings.Join(dst, ", ") + ")" +
		" SELECT " + strings.Join(sel, ", ") +
		" FROM src." + quoteIdent(p.name) + " ORDER BY " + p.keyExpr
}

// affinity applies SQLite's column affinity rules (section 3.1 of
// https://sqlite.org/datatype3.html) to a declared type.
func affinity(declType string) string {
	t := strings.ToUpper(declType)
	switch {
	case strings.Contains(t, "INT"):
		return "INTEGER"
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return "TEXT"
	case t == "", strings.Contains(t, "BLOB"):
		return "BLOB"
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return "REAL"
	default:
		return "NUMERIC"
	}
}

func hasColumn(cols []column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.name, name) {
			return true
		}
	}
	return false
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
