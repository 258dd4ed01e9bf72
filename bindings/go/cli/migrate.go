package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/natsbus"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

func (p *Program) migrateHelp() string {
	return fmt.Sprintf(`Usage: %[1]s migrate --nats URL [--node NAME] FILE.sql

Publishes the SQL in FILE.sql (DDL: ALTER TABLE, CREATE TABLE, ...) as a
migration command on the cluster's JetStream stream, then exits 0. Every node
(--write jetstream) runs it at the same point among the writes, in one
transaction (all of it or none), and every open screen follows the new schema.
Prints the command's id and stream sequence.

  --nats URL     the cluster's NATS server (required)
  --node NAME    who sends it, as named in the command (default: the host name)
  -h, --help     show this help
`, p.Name)
}

// migrate is the `migrate` subcommand: it needs no database, only NATS.
func (p *Program) migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var url, node string
	flags := p.newFlagSet(p.Name + " migrate")
	flags.StringVar(&url, "nats", "", "")
	flags.StringVar(&node, "node", "", "")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, p.migrateHelp())
			return err
		}
		return usage("%v (see --help)", err)
	}
	if url == "" {
		return usage("migrate needs --nats URL (see --help)")
	}
	if flags.NArg() != 1 {
		return usage("migrate needs one FILE.sql (see --help)")
	}
	raw, err := os.ReadFile(flags.Arg(0))
	if err != nil {
		return usage("migration %s: %v", flags.Arg(0), unwrapPath(err))
	}
	sql := strings.TrimSpace(string(raw))
	if sql == "" || !utf8.ValidString(sql) {
		return usage("migration %s: empty or not UTF-8", flags.Arg(0))
	}
	if node == "" {
		node, _ = os.Hostname()
	}
	id, err := protocol.NewCommandID()
	if err != nil {
		return err
	}
	cmd := &protocol.Command{ID: id, Node: node, Op: "migrate", SQL: sql}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seq, err := natsbus.Publish(pctx, url, cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: migration %s published as stream sequence %d\n", p.Name, cmd.ID, seq)
	return nil
}
