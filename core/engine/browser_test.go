package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

func header(res *protocol.Response, name string) string {
	for _, h := range res.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// A Host that is not ours is refused before any SQL: the racy connection's
// hook fails the test if the engine asks SQLite anything.
func TestForeignHostRefusedBeforeSQL(t *testing.T) {
	e, db, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT); INSERT INTO t VALUES (1, 'secret');`,
		engine.Options{AllowedHosts: []string{"admin.example.com", "lan.example:8443", "[fd00::5]"}})
	asked := 0
	db.hook = func(string) { asked++ }
	for _, c := range []struct {
		host string
		want int
	}{
		{"localhost", 200}, {"127.0.0.1:8080", 200}, {"[::1]:1", 200}, {"LOCALHOST", 200},
		{"admin.example.com", 200}, {"admin.example.com:443", 200}, {"lan.example:8443", 200}, {"[fd00::5]:80", 200},
		{"evil.example", 421}, {"127.0.0.1.evil.example", 421}, {"localhost.", 421}, {"[2001:db8::1]", 421},
		{"", 421}, {"localhost, evil.example", 421}, {"lan.example", 421}, {"lan.example:8444", 421},
		{"admin.example.com.evil.example", 421}, {"0.0.0.0", 421}, {"127.0.0.2", 421},
	} {
		asked = 0
		res := do(t, e, "GET", "/api/tables/t/rows", "", "host", c.host)
		if res.Status != c.want {
			t.Errorf("Host %q: %d, want %d", c.host, res.Status, c.want)
		}
		if c.want == 421 && (asked != 0 || strings.Contains(string(res.Body), "secret")) {
			t.Errorf("Host %q: %d SQL calls before the refusal, body %q", c.host, asked, res.Body)
		}
	}
	if _, err := engine.Open(db, engine.Options{AllowedHosts: []string{"http://x.example/"}}); err == nil {
		t.Error("an allowed host with a scheme was accepted")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e, _, _ := liveDB(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`)
	for _, path := range []string{"/", "/t/t", "/api/schema", "/assets/app.js", "/t/nope"} {
		res := do(t, e, "GET", path, "", "accept", "text/html")
		csp := header(res, "content-security-policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if header(res, "x-frame-options") != "DENY" || header(res, "x-content-type-options") != "nosniff" ||
			header(res, "referrer-policy") != "same-origin" {
			t.Errorf("%s: headers %v", path, res.Headers)
		}
	}
	cfg, err := engine.ParseConfig([]byte(`{"embedOrigins": ["https://intranet.example"]}`))
	if err != nil {
		t.Fatal(err)
	}
	e.SetOptions(engine.Options{Config: cfg})
	res := do(t, e, "GET", "/", "", "accept", "text/html")
	if csp := header(res, "content-security-policy"); !strings.HasSuffix(csp, "frame-ancestors https://intranet.example") {
		t.Errorf("embedding: CSP %q", csp)
	}
	if header(res, "x-frame-options") != "" {
		t.Errorf("embedding: X-Frame-Options %q would forbid what the CSP allows", header(res, "x-frame-options"))
	}
	for _, bad := range []string{`"https://a.example; script-src *"`, `"https://a.example/path"`, `"*"`, `"https://a b"`, `"javascript:x"`} {
		if _, err := engine.ParseConfig([]byte(`{"embedOrigins": [` + bad + `]}`)); err == nil {
			t.Errorf("embedOrigins %s accepted", bad)
		}
	}
}

// Signing in makes a random session (the token is in no cookie), which lasts
// the configured time and ends with sign-out.
func TestSessions(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	now := time.Unix(1_800_000_000, 0)
	cfg, _ := engine.ParseConfig([]byte(`{"sessionHours": 2}`))
	e, _, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`,
		engine.Options{AuthToken: token, Config: cfg, Clock: func() time.Time { return now }})
	signin := func() string {
		res := do(t, e, "POST", "/signin", "token="+token, "content-type", "application/x-www-form-urlencoded", "accept", "text/html")
		if res.Status != 303 {
			t.Fatalf("sign-in: %d %s", res.Status, res.Body)
		}
		c := header(res, "set-cookie")
		if strings.Contains(c, token) || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") ||
			!strings.Contains(c, "Max-Age=7200") {
			t.Fatalf("cookie %q", c)
		}
		v, _, _ := strings.Cut(c, ";")
		return v
	}
	a, b := signin(), signin()
	if a == b {
		t.Fatal("two sign-ins gave the same session")
	}
	page := func(cookie string) *protocol.Response {
		return do(t, e, "GET", "/", "", "cookie", "x=1; "+cookie, "accept", "text/html")
	}
	if r := page(a); r.Status != 200 || !strings.Contains(string(r.Body), `action="/signout"`) {
		t.Fatalf("signed in: %d, sign-out form missing", r.Status)
	}
	if r := page("nakedhtmx_session=" + strings.Repeat("0", 64)); r.Status != 401 {
		t.Fatalf("a made-up session: %d", r.Status)
	}
	// Sign-out from another site is refused and ends nothing.
	if r := do(t, e, "POST", "/signout", "", "cookie", a, "origin", "https://evil.example", "accept", "text/html"); r.Status != 403 {
		t.Fatalf("cross-site sign-out: %d", r.Status)
	}
	r := do(t, e, "POST", "/signout", "", "cookie", a, "origin", "http://localhost", "accept", "text/html")
	if r.Status != 303 || !strings.Contains(header(r, "set-cookie"), "Max-Age=0") {
		t.Fatalf("sign-out: %d %v", r.Status, r.Headers)
	}
	if r := page(a); r.Status != 401 {
		t.Fatalf("after sign-out: %d", r.Status)
	}
	if r := page(b); r.Status != 200 {
		t.Fatalf("the other session ended too: %d", r.Status)
	}
	if r := do(t, e, "GET", "/signout", "", "cookie", b); r.Status != 405 {
		t.Fatalf("GET /signout: %d", r.Status)
	}
	now = now.Add(2*time.Hour - time.Second)
	if r := page(b); r.Status != 200 {
		t.Fatalf("before expiry: %d", r.Status)
	}
	now = now.Add(time.Second)
	if r := page(b); r.Status != 401 {
		t.Fatalf("after expiry: %d", r.Status)
	}
	// A new token ends every session made with the old one.
	c := signin()
	e.SetOptions(engine.Options{AuthToken: token + "-new", Config: cfg, Clock: func() time.Time { return now }})
	if r := page(c); r.Status != 401 {
		t.Fatalf("after a token change: %d", r.Status)
	}
}

// Wrong tokens are throttled per client: after a few misses every request of
// that client with a token waits (the right token too), for longer with
// each miss; other clients and clients without a token are not slowed.
func TestWrongTokensThrottled(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	now := time.Unix(1_800_000_000, 0)
	e, _, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`,
		engine.Options{AuthToken: token, Clock: func() time.Time { return now }})
	ask := func(remote, tok string) *protocol.Response {
		return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/api/tables/t/rows", Remote: remote,
			Headers: map[string]string{"host": "localhost", "authorization": "Bearer " + tok}}})
	}
	for i := 0; i < 5; i++ {
		if r := ask("10.0.0.1", "wrong-token-guess-"+string(rune('a'+i))); r.Status != 401 {
			t.Fatalf("miss %d: %d", i+1, r.Status)
		}
	}
	if r := ask("10.0.0.1", token); r.Status != 200 {
		t.Fatalf("five misses are free: %d", r.Status)
	}
	ask("10.0.0.1", "wrong-token-guess-six") // the sixth: a 1 s wait
	r := ask("10.0.0.1", token)
	if r.Status != 429 || header(r, "retry-after") != "1" {
		t.Fatalf("the right token while waiting: %d retry-after %q", r.Status, header(r, "retry-after"))
	}
	if r := ask("10.0.0.2", token); r.Status != 200 {
		t.Fatalf("another client: %d", r.Status)
	}
	signin := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/signin", Remote: "10.0.0.1",
		Headers: map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}},
		Body: []byte("token=" + token)})
	if signin.Status != 429 {
		t.Fatalf("the sign-in form while waiting: %d", signin.Status)
	}
	now = now.Add(time.Second)
	if r := ask("10.0.0.1", token); r.Status != 200 {
		t.Fatalf("after the wait: %d", r.Status)
	}
	ask("10.0.0.1", "wrong-token-guess-seven")
	if r := ask("10.0.0.1", token); header(r, "retry-after") != "2" {
		t.Fatalf("the next miss doubles the wait: %d %q", r.Status, header(r, "retry-after"))
	}
}

// Behind a trusted proxy (config trustedProxies) wrong tokens are counted
// against the client X-Forwarded-For names, not the proxy, so one guesser
// cannot lock everyone out; anyone else's X-Forwarded-For is ignored. The
// session cookie is Secure when the trusted proxy says it spoke HTTPS.
func TestTrustedProxies(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	cfg, err := engine.ParseConfig([]byte(`{"trustedProxies": ["127.0.0.1", "10.1.0.0/16"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.ParseConfig([]byte(`{"trustedProxies": ["not an address"]}`)); err == nil || !strings.Contains(err.Error(), "trustedProxies") {
		t.Fatalf("a bad proxy address: %v", err)
	}
	e, _, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`, engine.Options{AuthToken: token, Config: cfg})
	ask := func(remote, xff, tok string) *protocol.Response {
		return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/api/tables/t/rows", Remote: remote,
			Headers: map[string]string{"host": "localhost", "authorization": "Bearer " + tok, "x-forwarded-for": xff}}})
	}
	// A guesser behind the proxy (which appends what it saw; the guesser
	// wrote the first address itself).
	for i := 0; i < 6; i++ {
		ask("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.2.3", "wrong-token-guess-"+string(rune('a'+i)))
	}
	if r := ask("127.0.0.1", "198.51.100.7, 10.1.2.3", token); r.Status != 200 {
		t.Fatalf("another client behind the proxy: %d", r.Status)
	}
	if r := ask("127.0.0.1", "5.5.5.5, 203.0.113.9, 10.1.2.3", token); r.Status != 429 {
		t.Fatalf("the guesser, whatever it writes first: %d", r.Status)
	}
	// Not a trusted proxy: its X-Forwarded-For names no one.
	for i := 0; i < 6; i++ {
		ask("192.0.2.1", "198.51.100."+string(rune('1'+i)), "wrong-token-guess-"+string(rune('a'+i)))
	}
	if r := ask("192.0.2.1", "198.51.100.99", token); r.Status != 429 {
		t.Fatalf("an untrusted sender naming other clients: %d", r.Status)
	}
	signin := func(remote, proto string) string {
		r := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/signin", Remote: remote,
			Headers: map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html",
				"x-forwarded-proto": proto}}, Body: []byte("token=" + token)})
		if r.Status != 303 {
			t.Fatalf("sign-in from %s: %d", remote, r.Status)
		}
		return header(r, "set-cookie")
	}
	if c := signin("127.0.0.1", "https"); !strings.HasSuffix(c, "; Secure") {
		t.Errorf("over HTTPS through a trusted proxy: %s", c)
	}
	if c := signin("127.0.0.1", "http"); strings.Contains(c, "Secure") {
		t.Errorf("over HTTP: %s", c)
	}
	if c := signin("198.51.100.50", "https"); strings.Contains(c, "Secure") {
		t.Errorf("a header from anyone else: %s", c)
	}
}

// A probe asks whether a caller may send a large body: 100 when it is
// known, else the refusal it would get, with no body read.
func TestProbe(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	e, _, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`, engine.Options{AuthToken: token})
	probe := func(path string, h ...string) int {
		headers := map[string]string{"host": "localhost", "content-type": "application/json"}
		for i := 0; i+1 < len(h); i += 2 {
			headers[h[i]] = h[i+1]
		}
		return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: path, Headers: headers, Probe: true}}).Status
	}
	for _, c := range []struct {
		path string
		h    []string
		want int
	}{
		{"/api/tables/t/rows", nil, 401},
		{"/api/tables/t/rows", []string{"authorization", "Bearer " + token}, 100},
		{"/api/tables/t/rows", []string{"authorization", "Bearer not-the-token-at-all"}, 401},
		{"/api/tables/t/rows", []string{"authorization", "Bearer " + token, "origin", "https://evil.example"}, 403},
		{"/signin", nil, 413},
		{"/api/tables/t/rows", []string{"host", "evil.example"}, 421},
	} {
		if got := probe(c.path, c.h...); got != c.want {
			t.Errorf("probe %s %v: %d, want %d", c.path, c.h, got, c.want)
		}
	}
}

// A wrong token sent to a public stored query is still a guess: it is
// served (the query needs no token) and counted, once. Five misses are
// free; the sixth makes the client wait, the right token too.
func TestWrongTokenOnAPublicQueryCounts(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	cfg, err := engine.ParseConfig([]byte(`{"queries": {"open": {"sql": "SELECT count(*) AS n FROM t", "public": true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`, engine.Options{AuthToken: token, Config: cfg})
	ask := func(path, tok string) *protocol.Response {
		return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: path, Remote: "10.0.0.1",
			Headers: map[string]string{"host": "localhost", "authorization": "Bearer " + tok}}})
	}
	for i := 0; i < 5; i++ {
		if r := ask("/api/queries/open", "wrong-token-guess-"+string(rune('a'+i))); r.Status != 200 {
			t.Fatalf("miss %d on the public query: %d %s", i+1, r.Status, r.Body)
		}
	}
	if r := ask("/api/tables/t/rows", token); r.Status != 200 {
		t.Fatalf("five misses are free, each counted once: %d", r.Status)
	}
	ask("/api/queries/open", "wrong-token-guess-six")
	if r := ask("/api/tables/t/rows", token); r.Status != 429 {
		t.Fatalf("the sixth miss, on the public query, counts: %d", r.Status)
	}
}

// Sessions are kept in the database: another engine on the same file (a
// restart, a second process) knows them, signing out in one ends the
// session in both, a new token ends every session made with the old one,
// and the file holds no id a cookie carries.
func TestSessionsInTheDatabase(t *testing.T) {
	const token = "a-token-of-sixteen-chars"
	e, racy, other := liveDBWith(t, `CREATE TABLE t (id INTEGER PRIMARY KEY);`, engine.Options{AuthToken: token})
	second, err := engine.Open(racy.DB, engine.Options{AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	signin := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/signin",
		Headers: map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}},
		Body: []byte("token=" + token)})
	jar, _, _ := strings.Cut(header(signin, "set-cookie"), ";")
	id := strings.TrimPrefix(jar, "nakedhtmx_session=")
	if signin.Status != 303 || len(id) != 64 {
		t.Fatalf("sign-in: %d %q", signin.Status, jar)
	}
	page := func(e *engine.Engine) int {
		return e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/t/t",
			Headers: map[string]string{"host": "localhost", "accept": "text/html", "cookie": jar}}}).Status
	}
	if a, b := page(e), page(second); a != 200 || b != 200 {
		t.Fatalf("the session on its engine and on another: %d %d", a, b)
	}
	rs, err := other.Query(`SELECT count(*) FROM "_nakedhtmx_sessions" WHERE id = ? OR token = ?`, id, token)
	if err != nil || fmt.Sprint(rs.Values) != "[[0]]" {
		t.Fatalf("the file holds a cookie's id or the token: %v %v", rs, err)
	}
	newToken, err := engine.Open(racy.DB, engine.Options{AuthToken: "another-token-of-24-chars"})
	if err != nil {
		t.Fatal(err)
	}
	if got := page(newToken); got != 401 {
		t.Fatalf("a session of the old token under a new one: %d", got)
	}
	out := second.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/signout",
		Headers: map[string]string{"host": "localhost", "accept": "text/html", "cookie": jar}}})
	if out.Status != 303 {
		t.Fatalf("sign-out: %d", out.Status)
	}
	if a, b := page(e), page(second); a != 401 || b != 401 {
		t.Fatalf("after signing out on the other engine: %d %d", a, b)
	}
}
