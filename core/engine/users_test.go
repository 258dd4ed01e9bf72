package engine_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/bindings/go/sqlite"
	"github.com/nakedhtmx/nakedhtmx/core/engine"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// peopleConfig: notes are their owner's (editors see all of them, no one
// but an administrator deletes one); tags are anyone's; secrets are no
// one's but an administrator's.
const peopleConfig = `{"tables": {
  "notes": {"rules": {"list": "owner = @user.id OR @user.role = 'editor'", "view": "owner = @user.id OR @user.role = 'editor'",
                      "create": "owner = @user.id", "update": "owner = @user.id AND status != 'locked'", "delete": "false"},
            "defaults": {"owner": "@user.id", "owner_email": "@user.email"}},
  "secrets": {"rules": {"list": "false", "view": "false", "create": "false", "update": "false", "delete": "false"}}}}`

const peopleSchema = `
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO tags VALUES (1, 'red'), (2, 'blue');
CREATE TABLE notes (id INTEGER PRIMARY KEY, owner INTEGER, owner_email TEXT, status TEXT NOT NULL DEFAULT 'open', body TEXT, tag INTEGER REFERENCES tags(id));
CREATE TABLE secrets (id INTEGER PRIMARY KEY, code TEXT);
INSERT INTO secrets VALUES (1, 'TOPSECRET');`

type session struct {
	t      *testing.T
	e      *engine.Engine
	cookie string
}

func (s *session) do(method, path, body string, headers ...string) *protocol.Response {
	s.t.Helper()
	if s.cookie != "" {
		headers = append(headers, "cookie", s.cookie)
	}
	return do(s.t, s.e, method, path, body, headers...)
}

// signIn signs in with the form and answers the session cookie ("" when
// refused) and the answer.
func signIn(t *testing.T, e *engine.Engine, email, pw string) (string, *protocol.Response) {
	return signInFrom(t, e, email, pw, "127.0.0.1")
}

// signInFrom is signIn from a client address.
func signInFrom(t *testing.T, e *engine.Engine, email, pw, remote string) (string, *protocol.Response) {
	t.Helper()
	form := url.Values{"email": {email}, "password": {pw}}.Encode()
	res := e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: "POST", Path: "/signin", Remote: remote,
		Headers: map[string]string{"host": "localhost", "content-type": "application/x-www-form-urlencoded", "accept": "text/html"}}, Body: []byte(form)})
	if res.Status != 303 {
		return "", res
	}
	c, _, _ := strings.Cut(header(res, "set-cookie"), ";")
	return c, res
}

func addUser(t *testing.T, s *session, email, pw, role string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": pw, "role": role})
	res := s.do("POST", "/api/users", string(body))
	if res.Status != 201 {
		t.Fatalf("add %s: %d %s", email, res.Status, res.Body)
	}
	var out struct{ ID int64 }
	json.Unmarshal(res.Body, &out)
	return out.ID
}

func peopleEngine(t *testing.T) (*engine.Engine, *session, *session, *session, map[string]int64) {
	t.Helper()
	cfg, err := engine.ParseConfig([]byte(peopleConfig))
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := liveDBWith(t, peopleSchema, engine.Options{Config: cfg})
	// The first user is added while the app is open; then it needs an
	// administrator signed in.
	open := &session{t: t, e: e}
	ids := map[string]int64{"root@example.com": addUser(t, open, "root@example.com", "root-password", "admin")}
	c, res := signIn(t, e, "root@example.com", "root-password")
	if c == "" {
		t.Fatalf("sign in root: %d %s", res.Status, res.Body)
	}
	root := &session{t: t, e: e, cookie: c}
	// Hostile emails: quotes, LIKE's wildcards, unicode.
	for _, u := range [][3]string{{`o'hara%_"x@example.com`, "alice-password", "user"}, {"bjørn@exämple.com", "bob-password", "editor"}} {
		ids[u[0]] = addUser(t, root, u[0], u[1], u[2])
	}
	ss := []*session{}
	for _, u := range [][2]string{{`O'Hara%_"x@example.com`, "alice-password"}, {"bjørn@exämple.com", "bob-password"}} {
		c, res := signIn(t, e, u[0], u[1])
		if c == "" {
			t.Fatalf("sign in %s: %d %s", u[0], res.Status, res.Body)
		}
		ss = append(ss, &session{t: t, e: e, cookie: c})
	}
	ss = append(ss, root)
	return e, ss[0], ss[1], ss[2], ids
}

func TestUsersSignIn(t *testing.T) {
	e, alice, _, root, ids := peopleEngine(t)
	// With users the app needs a signed-in user.
	anon := &session{t: t, e: e}
	if res := anon.do("GET", "/api/tables/tags/rows", ""); res.Status != 401 {
		t.Fatalf("anonymous: %d", res.Status)
	}
	if res := anon.do("GET", "/", "", "accept", "text/html"); res.Status != 401 || !strings.Contains(string(res.Body), `name="email"`) {
		t.Fatalf("anonymous page: %d %s", res.Status, res.Body)
	}
	// No enumeration: an unknown email and a wrong password answer alike.
	_, wrong := signIn(t, e, "root@example.com", "nope-nope-nope")
	_, unknown := signIn(t, e, "nobody@example.com", "nope-nope-nope")
	// The page keeps the email as typed (never the password); past it, the
	// two answers are the same bytes.
	if !strings.Contains(string(wrong.Body), `value="root@example.com"`) {
		t.Fatalf("the email typed is not kept: %s", wrong.Body)
	}
	wrongBody := strings.Replace(string(wrong.Body), "root@example.com", "X", 1)
	unknownBody := strings.Replace(string(unknown.Body), "nobody@example.com", "X", 1)
	if wrong.Status != 401 || unknown.Status != 401 || wrongBody != unknownBody {
		t.Fatalf("wrong password %d, unknown email %d:\n%s\n%s", wrong.Status, unknown.Status, wrong.Body, unknown.Body)
	}
	// The signed-in user's email and a sign-out button on every page; the
	// users page only for an administrator.
	page := alice.do("GET", "/t/tags", "", "accept", "text/html")
	if !strings.Contains(string(page.Body), `o&#39;hara%_&#34;x@example.com`) || !strings.Contains(string(page.Body), "Sign out") {
		t.Fatalf("alice's page: %s", page.Body)
	}
	if res := alice.do("GET", "/users", "", "accept", "text/html"); res.Status != 403 {
		t.Fatalf("alice's users page: %d", res.Status)
	}
	if res := root.do("GET", "/users", "", "accept", "text/html"); res.Status != 200 || !strings.Contains(string(res.Body), "bjørn@exämple.com") {
		t.Fatalf("root's users page: %d %s", res.Status, res.Body)
	}
	if res := alice.do("GET", "/api/users", ""); res.Status != 403 {
		t.Fatalf("alice's users API: %d", res.Status)
	}
	// A new password ends every session of the user's; so does removal.
	aliceID := ids[`o'hara%_"x@example.com`]
	if res := root.do("PATCH", fmt.Sprintf("/api/users/%d", aliceID), `{"password": "a-new-password"}`); res.Status != 200 {
		t.Fatalf("new password: %d %s", res.Status, res.Body)
	}
	if res := alice.do("GET", "/api/tables/tags/rows", ""); res.Status != 401 {
		t.Fatalf("alice's old session after a new password: %d", res.Status)
	}
	c, _ := signIn(t, e, `o'hara%_"x@example.com`, "a-new-password")
	alice.cookie = c
	if res := alice.do("GET", "/api/tables/tags/rows", ""); res.Status != 200 {
		t.Fatalf("alice again: %d", res.Status)
	}
	if res := root.do("DELETE", fmt.Sprintf("/api/users/%d", aliceID), ""); res.Status != 204 {
		t.Fatalf("remove: %d %s", res.Status, res.Body)
	}
	if res := alice.do("GET", "/api/tables/tags/rows", ""); res.Status != 401 {
		t.Fatalf("a removed user's session: %d", res.Status)
	}
	// Signing out ends the session.
	if res := root.do("POST", "/signout", ""); res.Status != 303 {
		t.Fatalf("sign out: %d", res.Status)
	}
	if res := root.do("GET", "/api/tables/tags/rows", ""); res.Status != 401 {
		t.Fatalf("after sign-out: %d", res.Status)
	}
	// Bad users are refused with a reason.
	c, _ = signIn(t, e, "bjørn@exämple.com", "bob-password")
	bob := &session{t: t, e: e, cookie: c}
	if res := bob.do("POST", "/api/users", `{"email": "x@example.com", "password": "long-enough"}`); res.Status != 403 {
		t.Fatalf("an editor adding a user: %d", res.Status)
	}
}

func TestSignInThrottled(t *testing.T) {
	e, _, _, _, _ := peopleEngine(t)
	// Per email: from many addresses, one email's wrong guesses are stopped.
	var last *protocol.Response
	for i := 0; i < 8; i++ {
		_, last = signInFrom(t, e, "root@example.com", "guess-guess-"+fmt.Sprint(i), fmt.Sprintf("10.0.0.%d", i))
	}
	if last.Status != 429 || header(last, "retry-after") == "" {
		t.Fatalf("per email: %d", last.Status)
	}
	// Even the right password waits meanwhile.
	if _, res := signIn(t, e, "root@example.com", "root-password"); res.Status != 429 {
		t.Fatalf("right password while throttled: %d", res.Status)
	}
	// Another email from another address is not stopped by that email's count.
	if c, res := signInFrom(t, e, "bjørn@exämple.com", "bob-password", "10.0.1.1"); c == "" {
		t.Fatalf("another email: %d %s", res.Status, res.Body)
	}
	// Per address: one address guessing many emails is stopped too.
	for i := 0; i < 8; i++ {
		_, last = signInFrom(t, e, fmt.Sprintf("nobody%d@example.com", i), "guess-guess-guess", "10.0.2.1")
	}
	if last.Status != 429 {
		t.Fatalf("per address: %d", last.Status)
	}
	if c, _ := signInFrom(t, e, "bjørn@exämple.com", "bob-password", "10.0.2.1"); c != "" {
		t.Fatal("a throttled address signed in")
	}
}

// rowIDs are the ids of a JSON list answer.
func rowIDs(t *testing.T, res *protocol.Response) []int64 {
	t.Helper()
	if res.Status != 200 {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}
	var out struct{ Rows []struct{ ID int64 } }
	if err := json.Unmarshal(res.Body, &out); err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, r := range out.Rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestRowRules(t *testing.T) {
	_, alice, bob, root, ids := peopleEngine(t)
	aliceID := ids[`o'hara%_"x@example.com`]
	// Creates fill the owner, whatever the body says.
	for i, s := range []*session{alice, alice, bob, root} {
		res := s.do("POST", "/api/tables/notes/rows", fmt.Sprintf(`{"body": "note %d", "owner": 999, "owner_email": "forged"}`, i))
		if s == root {
			if res.Status != 201 {
				t.Fatalf("root's create: %d %s", res.Status, res.Body)
			}
			continue
		}
		if res.Status != 201 {
			t.Fatalf("create %d: %d %s", i, res.Status, res.Body)
		}
		if strings.Contains(string(res.Body), "forged") || strings.Contains(string(res.Body), "999") {
			t.Fatalf("the body chose the owner: %s", res.Body)
		}
	}
	// Alice lists, reads, counts, searches and exports her own notes only.
	if got := rowIDs(t, alice.do("GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("alice's list: %v", got)
	}
	if res := alice.do("GET", "/api/tables/notes/rows/3", ""); res.Status != 404 {
		t.Fatalf("alice reads bob's note: %d", res.Status)
	}
	if res := alice.do("GET", "/api/tables/notes/rows.csv", ""); !strings.Contains(string(res.Body), "note 1") || strings.Contains(string(res.Body), "note 2") {
		t.Fatalf("alice's CSV: %s", res.Body)
	}
	if res := alice.do("GET", "/api/tables/notes/rows?facet=owner&aggregates=1", ""); !strings.Contains(string(res.Body), `"facets":{"owner":{"values":[{"value":2,"count":2}],"truncated":false}},"aggregates":{"count":2,`) {
		t.Fatalf("alice's facet: %s", res.Body)
	}
	if res := alice.do("GET", "/api/tables/notes/rows?q=note", ""); fmt.Sprint(rowIDs(t, res)) != "[1 2]" {
		t.Fatalf("alice's search: %s", res.Body)
	}
	// The editor lists everyone's; the administrator too.
	if got := rowIDs(t, bob.do("GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != "[1 2 3 4]" {
		t.Fatalf("bob's list: %v", got)
	}
	if got := rowIDs(t, root.do("GET", "/api/tables/notes/rows", "")); fmt.Sprint(got) != "[1 2 3 4]" {
		t.Fatalf("root's list: %v", got)
	}
	// Secrets: no one but an administrator.
	if got := rowIDs(t, bob.do("GET", "/api/tables/secrets/rows", "")); len(got) != 0 {
		t.Fatalf("bob lists secrets: %v", got)
	}
	if res := bob.do("GET", "/t/secrets", "", "accept", "text/html"); strings.Contains(string(res.Body), "TOPSECRET") || strings.Contains(string(res.Body), `/t/secrets/new"`) {
		t.Fatalf("bob's secrets page: %s", res.Body)
	}
	if res := bob.do("POST", "/api/tables/secrets/rows", `{"code": "x"}`); res.Status != 403 {
		t.Fatalf("bob creates a secret: %d", res.Status)
	}
	// Updates: the owner's, and the row must stay the owner's.
	if res := alice.do("PATCH", "/api/tables/notes/rows/1", `{"body": "mine"}`); res.Status != 200 {
		t.Fatalf("alice edits her note: %d %s", res.Status, res.Body)
	}
	if res := bob.do("PATCH", "/api/tables/notes/rows/1", `{"body": "bob was here"}`); res.Status != 403 || !strings.Contains(string(res.Body), "update rule") {
		t.Fatalf("bob edits alice's note: %d %s", res.Status, res.Body)
	}
	if res := alice.do("PATCH", "/api/tables/notes/rows/3", `{"body": "x"}`); res.Status != 404 {
		t.Fatalf("alice edits bob's note: %d", res.Status)
	}
	if res := alice.do("PATCH", "/api/tables/notes/rows/1", `{"owner": 4242}`); res.Status != 403 {
		t.Fatalf("alice gives her note away: %d %s", res.Status, res.Body)
	}
	if res := alice.do("PATCH", "/api/tables/notes/rows/1", `{"status": "locked"}`); res.Status != 403 {
		t.Fatalf("alice locks her note (the rule refuses the row after): %d %s", res.Status, res.Body)
	}
	// Deletes: "false" is no one's but an administrator's.
	if res := alice.do("DELETE", "/api/tables/notes/rows/1", ""); res.Status != 403 {
		t.Fatalf("alice deletes: %d", res.Status)
	}
	if res := root.do("DELETE", "/api/tables/notes/rows/4", ""); res.Status != 204 {
		t.Fatalf("root deletes: %d %s", res.Status, res.Body)
	}
	// Pages offer what the rules allow: no delete button, no bulk delete.
	page := string(alice.do("GET", "/t/notes/r/1", "", "accept", "text/html").Body)
	if strings.Contains(page, "/t/notes/r/1/delete") {
		t.Fatalf("alice's row page offers delete: %s", page)
	}
	page = string(bob.do("GET", "/t/notes/r/1", "", "accept", "text/html").Body)
	if strings.Contains(page, `class="primary">Save`) || !strings.Contains(page, "readonly") || !strings.Contains(page, "mine</textarea>") {
		t.Fatalf("bob's form of alice's note is not read-only: %s", page)
	}
	if page := string(bob.do("GET", "/t/notes/r/3", "", "accept", "text/html").Body); !strings.Contains(page, `class="primary">Save`) {
		t.Fatalf("bob's form of his own note is read-only: %s", page)
	}
	// A refused write's page names the rule.
	res := bob.do("POST", "/t/notes/r/1", "body=x", "accept", "text/html", "content-type", "application/x-www-form-urlencoded")
	if res.Status != 403 || !strings.Contains(string(res.Body), "owner = @user.id AND status != &#39;locked&#39;") {
		t.Fatalf("403 page: %d %s", res.Status, res.Body)
	}
	// The SQL page and schema editing are an administrator's.
	if res := alice.do("GET", "/api/sql?sql=SELECT+1", ""); res.Status != 403 {
		t.Fatalf("alice's SQL: %d", res.Status)
	}
	_ = aliceID
}

// TestRuleAfterAlter: a rule naming a column an outside ALTER renamed is a
// clear error on that table; the others keep working.
func TestRuleAfterAlter(t *testing.T) {
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"notes": {"rules": {"list": "owner = @user.id"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, _, other := liveDBWith(t, peopleSchema, engine.Options{Config: cfg})
	open := &session{t: t, e: e}
	addUser(t, open, "a@example.com", "password-a", "user")
	c, _ := signIn(t, e, "a@example.com", "password-a")
	a := &session{t: t, e: e, cookie: c}
	if res := a.do("GET", "/api/tables/notes/rows", ""); res.Status != 200 {
		t.Fatalf("before: %d %s", res.Status, res.Body)
	}
	if err := other.Script(`ALTER TABLE notes RENAME COLUMN owner TO owner_id`); err != nil {
		t.Fatal(err)
	}
	res := a.do("GET", "/api/tables/notes/rows", "")
	if res.Status != 500 || !strings.Contains(string(res.Body), `unknown column \"owner\"`) {
		t.Fatalf("after the rename: %d %s", res.Status, res.Body)
	}
	if res := a.do("GET", "/api/tables/tags/rows", ""); res.Status != 200 {
		t.Fatalf("another table: %d", res.Status)
	}
	// At start the same is a config error; so are rules for a table the
	// database lacks (a typo would leave the table meant open).
	if _, err := engine.Open(other, engine.Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), `unknown column "owner"`) {
		t.Fatalf("open: %v", err)
	}
	typo, _ := engine.ParseConfig([]byte(`{"tables": {"note": {"rules": {"list": "false"}}}}`))
	if _, err := engine.Open(other, engine.Options{Config: typo}); err == nil || !strings.Contains(err.Error(), `"note" has row rules, but the database has no such table`) {
		t.Fatalf("open with rules for no table: %v", err)
	}
	if !slices.Contains([]int{500}, res.Status) {
		t.Fatal(res.Status)
	}
}

// TestLiveHeldByRules: a stream of a user the rules hold names its viewer;
// each message of a held table lists the viewers that get it, and those
// the row left get its removal. 1,000 viewers, one write: exactly the
// owner and the editors get it.
func TestLiveHeldByRules(t *testing.T) {
	e, alice, bob, root, ids := peopleEngine(t)
	aliceID := ids[`o'hara%_"x@example.com`]
	sub := func(s *session) string {
		t.Helper()
		res := s.do("GET", "/api/events", "", "accept", "text/event-stream")
		if res.Status != 200 || res.Subscribe == nil {
			t.Fatalf("events: %d %s", res.Status, res.Body)
		}
		return res.Subscribe.Viewer
	}
	av, bv, rv := sub(alice), sub(bob), sub(root)
	if av == "" || bv == "" || rv != "" || av == bv {
		t.Fatalf("viewers: alice %q, bob %q, root %q", av, bv, rv)
	}
	var names []string
	for i := int64(1); i <= 1000; i++ {
		names = append(names, fmt.Sprintf(`{"id":%d,"email":"u%d@example.com","role":"user"}`, 1000+i, i))
	}
	names = append(names, av, bv)
	slices.Sort(names)
	e.SetViewers(names)
	e.Tick() // past the users' own writes
	// Defaults hold for an administrator too: a note is its maker's.
	if res := alice.do("POST", "/api/tables/notes/rows", fmt.Sprintf(`{"body": "for alice", "owner": %d}`, aliceID+7)); res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	msgs := e.Tick().Messages
	if len(msgs) != 1 || !msgs[0].Held || fmt.Sprint(msgs[0].Only) != fmt.Sprint([]string{av, bv}) && fmt.Sprint(msgs[0].Only) != fmt.Sprint([]string{bv, av}) {
		t.Fatalf("insert: %+v", msgs)
	}
	if res := root.do("PATCH", "/api/tables/notes/rows/1", `{"owner": 1500}`); res.Status != 200 {
		t.Fatalf("give away: %d %s", res.Status, res.Body)
	}
	msgs = e.Tick().Messages
	m := msgs[0]
	if len(msgs) != 1 || len(m.Only) != 2 || !slices.Contains(m.Only, `{"id":1500,"email":"u500@example.com","role":"user"}`) ||
		!slices.Contains(m.Only, bv) || fmt.Sprint(m.Gone) != fmt.Sprint([]string{av}) {
		t.Fatalf("moved to user 500: only %v gone %v", m.Only, m.Gone)
	}
	if !strings.Contains(m.GoneAPI, `"op":"delete"`) || !strings.Contains(m.GonePage, `"op":"delete"`) || strings.Contains(m.GonePage, "for alice") {
		t.Fatalf("the removal: %q %q", m.GoneAPI, m.GonePage)
	}
	// A stream that comes back with Last-Event-ID gets the same: alice the
	// removal, never the row as it is now.
	res := alice.do("GET", "/t/notes/live", "", "accept", "text/event-stream", "last-event-id", fmt.Sprint(m.ID-1))
	if !strings.Contains(string(res.Body), `"op":"delete"`) || strings.Contains(string(res.Body), "for alice") {
		t.Fatalf("alice's backlog: %s", res.Body)
	}
	// The change history follows the view rule, change by change: alice
	// sees the note as it was hers, not the change that gave it away.
	if page := string(alice.do("GET", "/t/notes/changes", "", "accept", "text/html").Body); !strings.Contains(page, "for alice") || strings.Contains(page, "1500") {
		t.Fatalf("alice's changes page: %s", page)
	}
	if page := string(bob.do("GET", "/t/notes/changes", "", "accept", "text/html").Body); !strings.Contains(page, "1500") {
		t.Fatalf("the editor's changes page: %s", page)
	}
	if res := alice.do("GET", fmt.Sprintf("/t/notes/r/1?asof=%d", m.ID), "", "accept", "text/html"); res.Status != 404 {
		t.Fatalf("alice views the note as of the change that gave it away: %d", res.Status)
	}
	// A row she may not view now has no past she may open either.
	if res := alice.do("GET", fmt.Sprintf("/t/notes/r/1?asof=%d", m.ID-1), "", "accept", "text/html"); res.Status != 404 {
		t.Fatalf("alice views the note as it was hers: %d", res.Status)
	}
	if res := bob.do("GET", fmt.Sprintf("/t/notes/r/1?asof=%d", m.ID-1), "", "accept", "text/html"); res.Status != 200 {
		t.Fatalf("the editor views the note as it was: %d", res.Status)
	}
}

// TestRulesPage: an administrator edits a table's rules from the app; a
// rule the table cannot hold is refused before the config changes.
func TestRulesPage(t *testing.T) {
	text := []byte("{\n  \"title\": \"People\"\n}\n")
	cfg, _ := engine.ParseConfig(text)
	e, _, _ := liveDBWith(t, peopleSchema, engine.Options{Config: cfg, ConfigWritable: true, ConfigText: text})
	open := &session{t: t, e: e}
	addUser(t, open, "root@example.com", "root-password", "admin")
	c, _ := signIn(t, e, "root@example.com", "root-password")
	root := &session{t: t, e: e, cookie: c}
	post := func(s *session, body string) *protocol.Response {
		return s.do("POST", "/rules/notes", body, "content-type", "application/x-www-form-urlencoded", "accept", "text/html")
	}
	if res := root.do("GET", "/rules", "", "accept", "text/html"); res.Status != 200 || !strings.Contains(string(res.Body), `action="/rules/notes"`) {
		t.Fatalf("rules page: %d %s", res.Status, res.Body)
	}
	res := post(root, url.Values{"list": {"nosuch = @user.id"}}.Encode())
	if res.Status != 422 || res.ConfigText != nil || !strings.Contains(string(res.Body), "unknown column") {
		t.Fatalf("a rule naming no column: %d %v %s", res.Status, res.ConfigText, res.Body)
	}
	res = post(root, url.Values{"list": {"owner = @user.id"}, "delete": {"false"}, "view": {""}}.Encode())
	want := "{\n  \"title\": \"People\",\n  \"tables\": {\n    \"notes\": {\n      \"rules\": {\n        \"delete\": \"false\",\n        \"list\": \"owner = @user.id\"\n      }\n    }\n  }\n}\n"
	if res.Status != 200 || res.ConfigText == nil || *res.ConfigText != want {
		t.Fatalf("saved: %d %v", res.Status, res.ConfigText)
	}
	addUser(t, root, "a@example.com", "password-a", "user")
	c, _ = signIn(t, e, "a@example.com", "password-a")
	a := &session{t: t, e: e, cookie: c}
	if res := post(a, "list=true"); res.Status != 403 || res.ConfigText != nil {
		t.Fatalf("a user edits the rules: %d", res.Status)
	}
}

// petsEngine: people, each its owner's, and pets that refer to them; a
// signed-in user (id 1), and a connection of another process's.
func petsEngine(t *testing.T) (*engine.Engine, *sqlite.DB, *session) {
	t.Helper()
	cfg, err := engine.ParseConfig([]byte(`{"tables": {"people": {"labelColumn": "name", "rules": {"view": "owner = @user.id", "list": "owner = @user.id"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, _, other := liveDBWith(t, `CREATE TABLE people (id INTEGER PRIMARY KEY, owner INTEGER, name TEXT);
CREATE TABLE pets (id INTEGER PRIMARY KEY, person INTEGER REFERENCES people(id), pet TEXT);`, engine.Options{Config: cfg})
	open := &session{t: t, e: e}
	addUser(t, open, "a@example.com", "password-a", "user")
	c, _ := signIn(t, e, "a@example.com", "password-a")
	return e, other, &session{t: t, e: e, cookie: c}
}

// TestReferenceToHiddenRow: a reference to a row the caller may not view
// shows as hidden, never the row's label, and links nowhere.
func TestReferenceToHiddenRow(t *testing.T) {
	_, other, a := petsEngine(t)
	if err := other.Script(`INSERT INTO people VALUES (1, 1, 'MINE'), (2, 99, 'SECRETNAME'); INSERT INTO pets VALUES (1, 1, 'cat'), (2, 2, 'dog');`); err != nil {
		t.Fatal(err)
	}
	page := string(a.do("GET", "/t/pets", "", "accept", "text/html").Body)
	if !strings.Contains(page, "MINE") || strings.Contains(page, "SECRETNAME") || !strings.Contains(page, ">hidden<") || strings.Contains(page, `href="/t/people/r/2"`) {
		t.Fatalf("pets list: %s", page)
	}
	form := string(a.do("GET", "/t/pets/r/2", "", "accept", "text/html").Body)
	if strings.Contains(form, "SECRETNAME") {
		t.Fatalf("pet form shows the hidden row's label: %s", form)
	}
}

// TestUserCommandsConverge: in the scale-out mode a users write travels the
// command log (with the password's hash, never the password) and every
// node's database ends with the same users; a user added on one node signs
// in on another.
func TestUserCommandsConverge(t *testing.T) {
	const tok = "a-cluster-token-of-enough-length"
	a, b := newNodeWith(t, "a", tok), newNodeWith(t, "b", tok)
	var seq uint64
	send := func(origin *node, method, path, body string) *protocol.Response {
		t.Helper()
		h := map[string]string{"host": "localhost", "content-type": "application/json", "accept": "application/json", "authorization": "Bearer " + tok}
		first := origin.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: path, Headers: h}, Body: []byte(body)})
		if first.Status != 202 || first.Command == nil || first.Command.Op != "user" {
			t.Fatalf("%s %s: %d %s", method, path, first.Status, first.Body)
		}
		if cmd, _ := json.Marshal(first.Command); strings.Contains(string(cmd), "a-long-password") {
			t.Fatalf("the command carries the password: %s", cmd)
		}
		seq++
		for _, n := range []*node{a, b} {
			if res := n.e.Apply(first.Command, seq); res.Status >= 300 {
				t.Fatalf("apply: %+v", res)
			}
		}
		return origin.e.Handle(&protocol.Request{RequestHead: protocol.RequestHead{Method: method, Path: path, Headers: h, Command: first.Command.ID}, Body: []byte(body)})
	}
	users := func(n *node) string {
		rs, err := n.db.Query(`SELECT id, email, role, password FROM _nakedhtmx_users ORDER BY id`)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(rs.Values)
	}
	if res := send(a, "POST", "/api/users", `{"email": "Ann@Example.com", "password": "a-long-password", "role": "editor"}`); res.Status != 201 {
		t.Fatalf("add, answered again: %d %s", res.Status, res.Body)
	}
	if users(a) != users(b) || !strings.Contains(users(a), "ann@example.com editor $argon2id$") {
		t.Fatalf("the nodes' users:\n%s\n%s", users(a), users(b))
	}
	if c, res := signIn(t, b.e, "ann@example.com", "a-long-password"); c == "" {
		t.Fatalf("sign in on the other node: %d %s", res.Status, res.Body)
	}
	if res := send(b, "PATCH", "/api/users/1", `{"role": "user"}`); res.Status != 200 {
		t.Fatalf("edit: %d %s", res.Status, res.Body)
	}
	if users(a) != users(b) || !strings.Contains(users(a), "ann@example.com user ") {
		t.Fatalf("after the edit:\n%s\n%s", users(a), users(b))
	}
	if res := send(a, "DELETE", "/api/users/1", ""); res.Status != 204 {
		t.Fatalf("remove: %d %s", res.Status, res.Body)
	}
	if users(a) != "[]" || users(b) != "[]" {
		t.Fatalf("after the removal:\n%s\n%s", users(a), users(b))
	}
	// A users command from someone who is no administrator is refused on
	// every node, whoever made it.
	seq++
	res := a.e.Apply(&protocol.Command{ID: "forged-user-command-000000000001", Op: "user", By: &protocol.CommandUser{ID: 5, Email: "x@example.com", Role: "user"},
		Values: map[string]any{"action": "add", "email": "evil@example.com", "role": "admin", "password": "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"}}, seq)
	if res.Status != 403 || users(a) != "[]" {
		t.Fatalf("a user's users command: %+v %s", res, users(a))
	}
}

// TestLiveLabelsOfHeldRows: a live message's page text goes to streams the
// rules hold differently, so it names no row of a held table by its label;
// and a write may not refer to a row its maker may not view.
func TestLiveLabelsOfHeldRows(t *testing.T) {
	e, other, a := petsEngine(t)
	if err := other.Script(`INSERT INTO people VALUES (1, 1, 'MINE'), (2, 99, 'SECRETNAME');`); err != nil {
		t.Fatal(err)
	}
	e.Tick()
	if res := a.do("POST", "/api/tables/pets/rows", `{"person": 2, "pet": "dog"}`); res.Status != 422 || !strings.Contains(string(res.Body), "no row of people") {
		t.Fatalf("a pet of a hidden person: %d %s", res.Status, res.Body)
	}
	if res := a.do("POST", "/api/tables/pets/rows", `{"person": 1, "pet": "cat"}`); res.Status != 201 {
		t.Fatalf("a pet of her own person: %d %s", res.Status, res.Body)
	}
	if err := other.Script(`INSERT INTO pets VALUES (7, 2, 'outside');`); err != nil {
		t.Fatal(err)
	}
	for _, m := range e.Tick().Messages {
		if strings.Contains(m.Page, "SECRETNAME") || strings.Contains(m.Page, "MINE") {
			t.Fatalf("a live page text names a held row by its label: %s", m.Page)
		}
	}
}

// TestRenamedTableStaysShut: a table with rules renamed by someone else
// is shut to everyone the rules hold until the config gives it rules.
func TestRenamedTableStaysShut(t *testing.T) {
	e, other, a := petsEngine(t)
	if err := other.Script(`INSERT INTO people VALUES (1, 1, 'MINE'), (2, 99, 'SECRETNAME');`); err != nil {
		t.Fatal(err)
	}
	if res := a.do("GET", "/api/tables/people/rows", ""); res.Status != 200 || strings.Contains(string(res.Body), "SECRETNAME") {
		t.Fatalf("before: %d %s", res.Status, res.Body)
	}
	if err := other.Script(`ALTER TABLE people RENAME TO persons`); err != nil {
		t.Fatal(err)
	}
	res := a.do("GET", "/api/tables/persons/rows", "")
	if res.Status != 500 || strings.Contains(string(res.Body), "SECRETNAME") || !strings.Contains(string(res.Body), "a rename?") {
		t.Fatalf("the renamed table: %d %s", res.Status, res.Body)
	}
	if res := a.do("GET", "/api/tables/pets/rows", ""); res.Status != 200 {
		t.Fatalf("another table: %d", res.Status)
	}
	// Still shut after the next change of the schema.
	if err := other.Script(`CREATE TABLE unrelated (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if res := a.do("GET", "/api/tables/persons/rows", ""); res.Status != 500 {
		t.Fatalf("the renamed table after another change: %d %s", res.Status, res.Body)
	}
	cfg, _ := engine.ParseConfig([]byte(`{"tables": {"persons": {"rules": {"list": "owner = @user.id"}}}}`))
	e.SetOptions(engine.Options{Config: cfg})
	if res := a.do("GET", "/api/tables/persons/rows", ""); res.Status != 200 || strings.Contains(string(res.Body), "SECRETNAME") || !strings.Contains(string(res.Body), "MINE") {
		t.Fatalf("with rules for it: %d %s", res.Status, res.Body)
	}
}
