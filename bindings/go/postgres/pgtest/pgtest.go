// Package pgtest gives tests a real PostgreSQL: a throw-away cluster started
// from the machine's own server binaries (Debian's postgresql package) in a
// temporary directory, listening only on a Unix socket there, and a fresh
// database for each test. NAKEDHTMX_PG_URL names a server to use instead
// (pg_virtualenv sets PGHOST and the rest; then pass the URL it gives).
// Without either, tests that need it skip, saying why.
//
// initdb refuses to run as root: as root, the cluster is made and run as the
// postgres user, which the package creates.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	once     sync.Once
	server   string // a connection string to the cluster's postgres database, or ""
	why      string // why there is none
	stop     func()
	dbNumber atomic.Int64
)

// Main runs a test binary's tests and stops the cluster afterwards: call it
// from TestMain.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// URL is a postgres:// URL of a fresh, empty database of its own, as the
// postgres superuser.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if server == "" {
		t.Skip("no PostgreSQL for this test: " + why)
	}
	name := fmt.Sprintf("nh_%d_%d", os.Getpid(), dbNumber.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE "`+name+`"`).ReadAll(); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return withDatabase(server, name)
}

func withDatabase(conn, name string) string {
	if u, err := url.Parse(conn); err == nil && u.Scheme != "" {
		u.Path = "/" + name
		return u.String()
	}
	return conn + " dbname=" + name
}

func start() {
	if u := os.Getenv("NAKEDHTMX_PG_URL"); u != "" {
		server = u
		return
	}
	bin := binDir()
	if bin == "" {
		why = "no PostgreSQL server binaries (install Debian's postgresql package, or set NAKEDHTMX_PG_URL)"
		return
	}
	dir, err := os.MkdirTemp("", "nhpg-")
	if err != nil {
		why = err.Error()
		return
	}
	data := filepath.Join(dir, "data")
	var as []string // the command prefix that runs a program as the cluster's owner
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			if out, err := exec.Command("useradd", "--system", "--no-create-home", "postgres").CombinedOutput(); err != nil {
				why = "running as root, and no postgres user to run the cluster as: " + string(out)
				return
			}
		}
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			why = "chown: " + string(out)
			return
		}
		as = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) error {
		cmd := append(append([]string{}, as...), append([]string{filepath.Join(bin, name)}, args...)...)
		out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", name, err, out)
		}
		return nil
	}
	if err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		why = err.Error()
		return
	}
	port := freePort()
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off", dir, port)
	if err := run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		why = err.Error()
		return
	}
	stop = func() {
		run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
	server = fmt.Sprintf("postgres://postgres@localhost:%d/postgres?host=%s&sslmode=disable", port, dir)
}

// binDir is the newest installed server's bin directory.
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			d := strings.TrimSpace(string(out))
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d
			}
		}
	}
	return ""
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// freePort is a TCP port no one listens on now (the socket's name carries
// it; nothing listens on TCP).
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 54329
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
