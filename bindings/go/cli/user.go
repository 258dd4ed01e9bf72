package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/httphost"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

func (p *Program) userHelp() string {
	return fmt.Sprintf(`Usage: %[1]s user add --db FILE --email EMAIL [--role ROLE]   (the password is read from stdin, one line)
       %[1]s user list --db FILE
       %[1]s user remove --db FILE --email EMAIL

The database's users (kept in its _nakedhtmx_users table). With at least one
user the app needs a signed-in user; the role "admin" sees and does
everything, others are held to the config's row rules.

  --db FILE      SQLite database file (must exist), or a postgres:// URL
  --pg-schema N  Postgres: the schema served (public)
  --email EMAIL  the user's email (compared in lower case)
  --role ROLE    add: the user's role (default user)
%[2]s  -h, --help     show this help
`, p.Name, p.ExtraHelp)
}

// user is the `user` subcommand (CONTRACT, "Users and row rules"). It asks
// the core itself, through its users API, as an administrator: the backend
// is opened with a token made for this run alone, which no one else holds.
func (p *Program) user(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" && args[0] != "list" && args[0] != "remove" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, p.userHelp())
			return nil
		}
		return usage("user needs add, list or remove (see %s user --help)", p.Name)
	}
	verb := args[0]
	var db, pgSchema, email, role string
	flags := p.newFlagSet(p.Name + " user " + verb)
	flags.StringVar(&db, "db", "", "")
	flags.StringVar(&pgSchema, "pg-schema", "", "")
	flags.StringVar(&email, "email", "", "")
	flags.StringVar(&role, "role", "user", "")
	if err := p.parse(flags, args[1:], stdout, p.userHelp()); err != nil {
		return err
	}
	switch {
	case db == "":
		return usage("user %s needs --db FILE (see --help)", verb)
	case verb != "list" && email == "":
		return usage("user %s needs --email EMAIL (see --help)", verb)
	}
	if !postgres.IsURL(db) {
		if _, err := os.Stat(db); err != nil {
			return usage("database %s: %v", db, unwrapPath(err))
		}
	}
	var pw string
	if verb == "add" {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return usage("reading the password from stdin: %v", err)
		}
		if pw = strings.TrimRight(line, "\r\n"); pw == "" {
			return usage("user add reads the password from stdin, one line (echo PASSWORD | %s user add ...)", p.Name)
		}
	}
	var tok [24]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return err
	}
	token := hex.EncodeToString(tok[:])
	backend, err := p.Open(ctx, OpenOptions{DB: db, AuthToken: token, Log: io.Discard, PGSchema: pgSchema})
	if err != nil {
		return &failure{exitUsage, err}
	}
	defer backend.Close()
	call := func(method, path string, body any) (*protocol.Response, error) {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		return httphost.Collect(backend, &protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: path,
			Headers: map[string]string{"accept": "application/json", "host": "localhost", "content-type": "application/json",
				"authorization": "Bearer " + token}}, Body: b})
	}
	fail := func(res *protocol.Response) error {
		var e struct{ Error string }
		json.Unmarshal(res.Body, &e)
		if res.Status == 422 {
			return usage("%s", e.Error) // a bad value: exit 2, as a bad flag
		}
		return fmt.Errorf("%s", e.Error)
	}
	shown := postgres.Shown(db)
	switch verb {
	case "add":
		res, err := call("POST", "/api/users", map[string]string{"email": email, "password": pw, "role": role})
		if err != nil {
			return err
		}
		if res.Status != 201 {
			return fail(res)
		}
		fmt.Fprintf(stdout, "%s: added %s (role %s) to %s\n", p.Name, strings.ToLower(strings.TrimSpace(email)), role, shown)
	case "list", "remove":
		res, err := call("GET", "/api/users", nil)
		if err != nil {
			return err
		}
		if res.Status != 200 {
			return fail(res)
		}
		var out struct {
			Users []struct {
				ID                            int64
				Email, Role, Created, Changed string
			}
		}
		if err := json.Unmarshal(res.Body, &out); err != nil {
			return err
		}
		if verb == "list" {
			for _, u := range out.Users {
				fmt.Fprintf(stdout, "%s\t%s\t%s\n", u.Email, u.Role, u.Created)
			}
			break
		}
		want := strings.ToLower(strings.TrimSpace(email))
		for _, u := range out.Users {
			if u.Email == want {
				res, err := call("DELETE", fmt.Sprintf("/api/users/%d", u.ID), nil)
				if err != nil {
					return err
				}
				if res.Status != 204 {
					return fail(res)
				}
				fmt.Fprintf(stdout, "%s: removed %s from %s\n", p.Name, want, shown)
				return backend.Close()
			}
		}
		return fmt.Errorf("no user %s in %s", want, shown)
	}
	return backend.Close()
}
