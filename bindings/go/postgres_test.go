package nakedhtmx

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/postgres/pgtest"
	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/corpus"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	pgstore "github.com/nakedhtmx/nakedhtmx/core/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// miniChinook stands in for Chinook where ../shared is absent: the tables,
// keys and rows the Postgres tests ask for, with Chinook's declared types.
const miniChinook = `
CREATE TABLE Artist (ArtistId INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, Name NVARCHAR(120));
CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, Title NVARCHAR(160) NOT NULL,
  ArtistId INTEGER NOT NULL REFERENCES Artist (ArtistId));
CREATE TABLE Genre (GenreId INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, Name NVARCHAR(120));
CREATE TABLE Track (TrackId INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, Name NVARCHAR(200) NOT NULL,
  AlbumId INTEGER REFERENCES Album (AlbumId), GenreId INTEGER REFERENCES Genre (GenreId),
  Milliseconds INTEGER NOT NULL, UnitPrice NUMERIC(10,2) NOT NULL);
CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, InvoiceDate DATETIME NOT NULL,
  BillingAddress NVARCHAR(70), Total NUMERIC(10,2) NOT NULL);
INSERT INTO Artist VALUES (1, 'AC/DC'), (2, 'Accept'), (3, '<b>Bold</b> & "quoted"');
INSERT INTO Album VALUES (1, 'For Those About To Rock', 1), (2, 'Balls to the Wall', 2), (3, 'Restless and Wild', 2);
INSERT INTO Genre VALUES (1, 'Rock'), (2, 'Jazz');
INSERT INTO Track VALUES (1, 'For Those About To Rock (We Salute You)', 1, 1, 343719, 0.99),
  (2, 'Balls to the Wall', 2, 1, 342562, 0.99), (3, 'Love Me Two Times', 3, 2, 199000, 1.99),
  (4, 'Loving You', NULL, NULL, 5, 0.5);
INSERT INTO Invoice VALUES (98, '2010-01-13 00:00:00', 'Av. Brigadeiro Faria Lima, 2170', 3.98), (99, '2010-01-14 00:00:00', NULL, 1);`

// chinookOnPostgres loads Chinook (or, without ../shared, miniChinook)
// into a fresh Postgres database and opens the native engine on it: the
// answers every other host is held to.
func chinookOnPostgres(t *testing.T, offline bool) (string, *postgres.DB, *engine.Engine) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mini.db")
	if src := filepath.Join("..", "..", "..", "shared", "testdata", "chinook.sqlite"); fileExists(src) {
		path = corpus.ChinookCopy(t)
	}
	lite, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, "chinook.db") {
		if err := lite.Script(miniChinook); err != nil {
			t.Fatal(err)
		}
	}
	defer lite.Close()
	url := pgtest.URL(t)
	pg, err := postgres.Open(url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	pgtest.LoadSQLite(t, lite, pg)
	native, err := engine.Open(pg, engine.Options{Store: pgstore.New(""), Log: func(string, ...any) {}, Offline: offline})
	if err != nil {
		t.Fatal(err)
	}
	return url, pg, native
}

// The same core.wasm serves Postgres under wazero: on Chinook loaded into a
// real Postgres, every answer is byte for byte the native engine's on the
// same database (the DSID included: the same store, the same schema).
func TestPostgresUnderWazero(t *testing.T) {
	wasm := needWasm(t)
	url, pg, native := chinookOnPostgres(t, false)
	h, err := New(t.Context(), Options{Wasm: wasm, DB: url, CacheDir: testCacheDir, Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	version := regexp.MustCompile(`("version":"|name="_version" value=")[0-9a-f]{16}`)
	for _, path := range []string{"/", "/t/Album?sort=Title", "/t/Track?q=love", "/t/Track/r/1", "/t/Invoice/r/98",
		"/api/tables/Track/rows?limit=7&sort=Milliseconds&desc=1", "/api/tables/Genre/rows.csv", "/api/schema/Invoice"} {
		p, q, _ := strings.Cut(path, "?")
		req := func() *protocol.Request {
			return &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: p, Query: q,
				Headers: map[string]string{"host": "localhost", "accept": "text/html"}}}
		}
		a, err := corpus.Collect(func(r *protocol.Request) (*protocol.Response, error) { return native.Handle(r), nil }, req())
		if err != nil {
			t.Fatal(err)
		}
		b, err := corpus.Collect(h.Handle, req())
		if err != nil {
			t.Fatal(err)
		}
		fa, fb := corpus.Format(a), corpus.Format(b)
		if b.Status != 200 || !bytes.Equal(version.ReplaceAll(fa, nil), version.ReplaceAll(fb, nil)) {
			t.Errorf("%s: wazero on Postgres (%d) differs from the native engine:\n%.600s\n---\n%.600s", path, b.Status, fb, fa)
		}
	}
	// A write through the wasm core lands in Postgres and in its log.
	w, err := h.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/api/tables/Genre/rows",
		Headers: map[string]string{"host": "localhost", "accept": "application/json", "content-type": "application/json"}}, Body: []byte(`{"Name":"Wazero"}`)})
	if err != nil || w.Status != 201 {
		t.Fatalf("a write: %v %d %s", err, w.Status, w.Body)
	}
	rs, err := pg.Query(`SELECT count(*) FROM "_nakedhtmx_changes" WHERE tbl = 'Genre' AND op = 'insert' AND new IS NOT NULL`)
	if err != nil || rs.Values[0][0] != int64(1) {
		t.Errorf("the write's log entry: %v %v", rs, err)
	}
}

// The TS hosts (Node, Deno, Bun) serve Postgres through the core's async
// calls and node-postgres: over real HTTP, on Chinook loaded into a real
// Postgres, every body is byte for byte the native engine's on the same
// database, and a write lands in the log.
func TestPostgresOnJSHosts(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := filepath.Join(root, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(root, "dist", "cli_node.js")); err != nil {
		t.Skip("dist/ is not built: make build")
	}
	// The JS hosts serve the browser set make build left in dist/browser/
	// (pages then name the worker): the native engine is told the same.
	_, err := os.Stat(filepath.Join(root, "dist", "browser", "manifest.json"))
	url, pg, native := chinookOnPostgres(t, err == nil)
	paths := []string{"/", "/t/Album?sort=Title", "/t/Track?q=love", "/t/Track/r/1", "/t/Invoice/r/98",
		"/api/tables/Track/rows?limit=7&sort=Milliseconds&desc=1", "/api/tables/Genre/rows.csv", "/api/schema/Invoice"}
	for _, host := range []struct {
		name, cmd string
		args      []string
	}{
		{"node", "node", []string{"npm/bin/nakedhtmx.js"}},
		{"deno", "deno", []string{"run", "-A", "deno/serve.ts"}},
		{"bun", "bun", []string{"npm/bin/nakedhtmx.js"}},
	} {
		t.Run(host.name, func(t *testing.T) {
			exe := filepath.Join(bin, host.cmd)
			if _, err := os.Stat(exe); err != nil {
				t.Skipf("%s is not installed (npm ci)", exe)
			}
			cmd := exec.Command(exe, append(host.args, "--db", url, "--port", "0")...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "NO_COLOR=1")
			stdout, _ := cmd.StdoutPipe()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cmd.Process.Signal(os.Interrupt)
				cmd.Wait()
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			base := regexp.MustCompile(`http://[^ /]+/`).FindString(line)
			if err != nil || base == "" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no URL line: %q %v; stderr %s", line, err, stderr.String())
			}
			for _, path := range paths {
				p, q, _ := strings.Cut(path, "?")
				native.Tick() // where live messages start: the log's end, as the host's core sees it
				full, err := corpus.Collect(func(r *protocol.Request) (*protocol.Response, error) { return native.Handle(r), nil },
					&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: p, Query: q,
						Headers: map[string]string{"host": strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/"), "accept": "text/html"}}})
				if err != nil || full.Status != 200 {
					t.Fatalf("native %s: %v %d", path, err, full.Status)
				}
				req, _ := http.NewRequest("GET", strings.TrimSuffix(base, "/")+path, nil)
				req.Header.Set("accept", "text/html")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !bytes.Equal(got, full.Body) {
					i := 0
					for i < len(got) && i < len(full.Body) && got[i] == full.Body[i] {
						i++
					}
					from := max(0, i-200)
					t.Errorf("%s on %s: %d, differs from the native engine at byte %d:\n%s\n---\n%s", path, host.name, res.StatusCode, i,
						got[from:min(len(got), i+200)], full.Body[from:min(len(full.Body), i+200)])
				}
			}
			// An outside write (another connection: psql, another process)
			// reaches an open event stream.
			events, err := http.Get(base + "api/events")
			if err != nil || events.StatusCode != 200 {
				t.Fatalf("the event stream: %v %v", err, events)
			}
			defer events.Body.Close()
			told := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(events.Body)
				for sc.Scan() {
					if strings.Contains(sc.Text(), `"table":"Artist"`) && strings.Contains(sc.Text(), `"op":"update"`) {
						told <- sc.Text()
						return
					}
				}
			}()
			if _, err := pg.Exec(`UPDATE "Artist" SET "Name" = ? WHERE "ArtistId" = 1`, "AC/DC via "+host.name); err != nil {
				t.Fatal(err)
			}
			select {
			case <-told:
			case <-time.After(10 * time.Second):
				t.Errorf("an outside update did not reach the event stream on %s; its stderr:\n%s", host.name, stderr.String())
			}
			body := strings.NewReader(`{"Name":"From ` + host.name + `"}`)
			req, _ := http.NewRequest("POST", base+"api/tables/Genre/rows", body)
			req.Header.Set("content-type", "application/json")
			req.Header.Set("accept", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 201 {
				t.Fatalf("a write: %v %v", err, res)
			}
			res.Body.Close()
			rs, err := pg.Query(`SELECT count(*) FROM "_nakedhtmx_changes" WHERE tbl = 'Genre' AND new LIKE ?`, `%From `+host.name+`%`)
			if err != nil || rs.Values[0][0] != int64(1) {
				t.Errorf("the write's log entry: %v %v", rs, err)
			}
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
