package engine

// People (CONTRACT, "Users and row rules"): users kept in the database
// itself ("_nakedhtmx_users", made at the first user added), signing in
// with an email and a password, and who a request is (principal), which
// the row rules (rules.go) are bound for.
//
// Who a request is, decided once per request in route:
//   - the server's token (a bearer header or a session made with it): an
//     administrator;
//   - a session made by a user's sign-in: that user (an administrator when
//     the role is "admin");
//   - no token and no users: the app is one person's, an administrator;
//   - anything else is not signed in (401, the sign-in page).

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/password"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// AdminRole is the role of users who see and do everything.
const AdminRole = "admin"

// principal is who a request is.
type principal struct {
	user  *rules.User // nil: the token, or an app without users
	admin bool
	token bool // signed in with the server's token
}

// userTable is the table of users, quoted, where a store keeps it.
var userTable = sqldb.Ident(model.UsersTable)

// usersTableThere: the table of users exists (a store made it at the
// first user added; reflection tells).
func (c *ctx) usersTableThere() bool { return c.st.db.Users }

// hasUsers: the database has at least one user. A database without the
// table is asked nothing.
func (c *ctx) hasUsers() bool {
	if c.hasUsersMemo != 0 {
		return c.hasUsersMemo > 0
	}
	c.hasUsersMemo = -1
	if c.usersTableThere() {
		if rs, err := c.e.db.Query(`SELECT 1 FROM ` + userTable + ` LIMIT 1`); err == nil && len(rs.Values) > 0 {
			c.hasUsersMemo = 1
		}
	}
	return c.hasUsersMemo > 0
}

// guarded: the server needs callers to sign in (a token or users): the
// SQL page and schema editing are then off unless the config turns them on.
func (c *ctx) guarded() bool {
	if r := c.e.opts.Replica; r != nil {
		return r.guarded // as on the copy's server
	}
	return c.e.opts.AuthToken != "" || c.hasUsers()
}

// admin: the request may do everything (rules do not hold it).
func (c *ctx) admin() bool { return c.who.admin }

// userOf reads a user by id.
func (c *ctx) userOf(id int64) *rules.User {
	if !c.usersTableThere() {
		return nil
	}
	rs, err := c.e.db.Query(`SELECT id, email, role FROM `+userTable+` WHERE id = ?`, id)
	if err != nil || len(rs.Values) != 1 {
		return nil
	}
	return userRow(rs.Values[0])
}

func userRow(v []any) *rules.User {
	id, _ := sqldb.Int(v[0])
	return &rules.User{ID: id, Email: sqldb.Text(v[1]), Role: sqldb.Text(v[2])}
}

// --- emails, roles and passwords as people type them ---

// normEmail is an email as kept and compared: trimmed, lower case.
func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// emailProblem says what is wrong with a (normalised) email, or "".
func emailProblem(e string) string {
	at := strings.LastIndexByte(e, '@')
	switch {
	case e == "":
		return "an email is needed"
	case len(e) > 254 || !utf8.ValidString(e):
		return "an email is at most 254 bytes of UTF-8"
	case at <= 0 || at == len(e)-1:
		return "an email has a name, an @ and a domain"
	}
	for _, r := range e {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "an email has no spaces or control characters"
		}
	}
	return ""
}

// roleProblem says what is wrong with a role, or "".
func roleProblem(r string) string {
	if r == "" || len(r) > 64 {
		return "a role is 1 to 64 letters, digits, '_', '-' or '.'"
	}
	for _, c := range r {
		if !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '-' || c == '.') {
			return "a role is 1 to 64 letters, digits, '_', '-' or '.'"
		}
	}
	return ""
}

// minPassword is the shortest password taken (NIST SP 800-63B: at least 8).
const minPassword = 8

func passwordProblem(pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < minPassword:
		return "a password has at least " + strconv.Itoa(minPassword) + " characters"
	case len(pw) > password.MaxLen:
		return "a password is at most " + strconv.Itoa(password.MaxLen) + " bytes"
	case !utf8.ValidString(pw):
		return "a password is UTF-8 text"
	}
	return ""
}

// --- signing in ---

// throttle keys: a client's address as it is, an email behind a prefix no
// address has.
func emailKey(email string) string { return "\x00e" + email }

// signinUser signs in with an email and a password. Whether the email has
// a user, the answer and the time it takes are the same (a wrong password
// and an unknown email both hash once), so neither tells who has an account.
func (c *ctx) signinUser(form url.Values) *protocol.Response {
	email, pw := normEmail(form.Get("email")), form.Get("password")
	addr := c.clientAddr()
	if wait := max(c.e.throttled(addr), c.e.throttled(emailKey(email))); wait > 0 {
		res := c.signinPageWith(429, "Too many wrong sign-ins: try again in "+strconv.FormatInt(wait, 10)+" s.", form.Get("email"))
		res.Headers = append(res.Headers, [2]string{"retry-after", strconv.FormatInt(wait, 10)})
		return res
	}
	var u *rules.User
	var hash string
	if c.usersTableThere() && email != "" && len(pw) <= password.MaxLen {
		rs, err := c.e.db.Query(`SELECT id, email, role, password FROM `+userTable+` WHERE email = ?`, email)
		if err != nil {
			return c.fail(503, "cannot read the users: "+err.Error())
		}
		if len(rs.Values) == 1 {
			u, hash = userRow(rs.Values[0]), sqldb.Text(rs.Values[0][3])
		}
	}
	if u == nil || !password.Check(pw, hash) {
		if u == nil {
			password.Waste(pw)
		}
		c.e.missed(addr)
		if email != "" {
			c.e.missed(emailKey(email))
		}
		return c.signinPageWith(401, "That email and password do not match a user.", form.Get("email"))
	}
	if password.Stale(hash) && c.e.live.enabled && !c.jetstream() {
		// Known now, so it can be hashed under today's parameters.
		c.e.db.Exec(`UPDATE `+userTable+` SET password = ? WHERE id = ? AND password = ?`, password.Hash(pw, password.Default), u.ID, hash)
	}
	c.e.forgive(emailKey(email))
	ttl := c.e.opts.Config.SessionSeconds()
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 303, Headers: [][2]string{
		{"location", c.e.opts.BasePath + "/"}, {"set-cookie", c.cookie(c.startSession(ttl, u.ID), ttl)}, {"cache-control", "no-store"}}}}
}

// forgive forgets the wrong sign-ins counted against key.
func (e *Engine) forgive(key string) { delete(e.guard.clients, key) }

// --- users: the API and the page (administrators only) ---

type userEntry struct {
	ID      int64  `json:"id"`
	Email   string `json:"email"`
	Role    string `json:"role"`
	Created string `json:"created"`
	Changed string `json:"changed"`
}

func (c *ctx) listUsers() ([]userEntry, error) {
	if !c.usersTableThere() {
		return nil, nil
	}
	rs, err := c.e.db.Query(`SELECT id, email, role, created, changed FROM ` + userTable + ` ORDER BY email`)
	if err != nil {
		return nil, err
	}
	out := make([]userEntry, 0, len(rs.Values))
	for _, v := range rs.Values {
		id, _ := sqldb.Int(v[0])
		out = append(out, userEntry{ID: id, Email: sqldb.Text(v[1]), Role: sqldb.Text(v[2]), Created: sqldb.Text(v[3]), Changed: sqldb.Text(v[4])})
	}
	return out, nil
}

// userChange is an add or an edit of a user.
type userChange struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Role     *string `json:"role"`
}

// Users are written where the data is: straight into this database, or,
// in the scale-out mode, as a command (op "user") that every node applies
// in the stream's order, so every node's database has the same users. A
// command names the user by email (ids are each node's) and carries the
// password's hash, never the password.

// addUser adds a user; the answer is its id, or a status and why not
// (202: a command this node has not applied yet).
func (c *ctx) addUser(ch userChange) (int64, int, string) {
	if ch.Email == nil || ch.Password == nil {
		return 0, 422, "a user needs an email and a password"
	}
	email := normEmail(*ch.Email)
	role := "user"
	if ch.Role != nil {
		role = *ch.Role
	}
	for _, p := range []string{emailProblem(email), passwordProblem(*ch.Password), roleProblem(role)} {
		if p != "" {
			return 0, 422, p
		}
	}
	status, why := c.userWrite(map[string]any{"action": "add", "email": email, "role": role,
		"password": password.Hash(*ch.Password, password.Default)})
	if why != "" || status == 202 {
		return 0, status, why
	}
	id, _ := c.userID(email)
	return id, status, ""
}

// editUser changes a user's role or password; a new password ends every
// session of the user's.
func (c *ctx) editUser(id int64, ch userChange) (int, string) {
	if c.req.Command != "" {
		return c.userWrite(nil) // asked again: the command's result
	}
	u := c.userOf(id)
	if u == nil {
		return 404, "no such user"
	}
	if ch.Email != nil {
		return 422, "a user's email cannot change: add a user with the new one"
	}
	values := map[string]any{"action": "edit", "email": u.Email}
	if ch.Role != nil {
		if p := roleProblem(*ch.Role); p != "" {
			return 422, p
		}
		values["role"] = *ch.Role
	}
	if ch.Password != nil {
		if p := passwordProblem(*ch.Password); p != "" {
			return 422, p
		}
		values["password"] = password.Hash(*ch.Password, password.Default)
	}
	return c.userWrite(values)
}

// removeUser removes a user and ends their sessions.
func (c *ctx) removeUser(id int64) (int, string) {
	if c.req.Command != "" {
		return c.userWrite(nil) // asked again: the command's result
	}
	u := c.userOf(id)
	if u == nil {
		return 404, "no such user"
	}
	return c.userWrite(map[string]any{"action": "remove", "email": u.Email})
}

// userWrite makes a checked users write: a command in the scale-out mode
// (202 until this node applied it; asked again, its result), else at once.
func (c *ctx) userWrite(values map[string]any) (int, string) {
	if !c.e.live.enabled {
		return 403, "the database is read-only"
	}
	if c.req.Command != "" {
		o := c.commandOutcome(nil)
		return o.status, o.msg
	}
	if c.jetstream() {
		o := c.newCommand(protocol.Command{Op: "user", Values: values})
		return o.status, o.msg
	}
	o := c.applyUser(values)
	return o.status, o.msg
}

// userID is a user's id by email on this node.
func (c *ctx) userID(email string) (int64, bool) {
	if !c.usersTableThere() {
		return 0, false
	}
	rs, err := c.e.db.Query(`SELECT id FROM `+userTable+` WHERE email = ?`, email)
	if err != nil || len(rs.Values) != 1 {
		return 0, false
	}
	id, _ := sqldb.Int(rs.Values[0][0])
	return id, true
}

// applyUser writes a users change (values as userWrite's): directly, or a
// command from the stream on every node alike.
func (c *ctx) applyUser(values map[string]any) *outcome {
	str := func(k string) (string, bool) {
		v, ok := values[k].(string)
		return v, ok
	}
	email, _ := str("email")
	now := c.e.now().UTC().Format(time.RFC3339)
	switch action, _ := str("action"); action {
	case "add":
		role, _ := str("role")
		hash, _ := str("password")
		if emailProblem(email) != "" || roleProblem(role) != "" || hash == "" {
			return failed(422, "a user command without a valid email, role and password hash")
		}
		if setup := c.e.store.UsersSetup(); setup != "" && !c.usersTableThere() {
			if err := c.e.db.Script(setup); err != nil {
				return failed(500, "cannot make the table of users: "+err.Error())
			}
		}
		_, err := c.e.db.Exec(`INSERT INTO `+userTable+` (email, role, password, created, changed) VALUES (?, ?, ?, ?, ?)`,
			email, role, hash, now, now)
		if err != nil {
			if strings.Contains(strings.ToLower(err.Error()), "unique") {
				return failed(409, "a user with that email exists")
			}
			return failed(500, "cannot add the user: "+err.Error())
		}
		c.hasUsersMemo = 1
		return &outcome{status: 201}
	case "edit":
		id, ok := c.userID(email)
		if !ok {
			return failed(404, "no such user")
		}
		if role, ok := str("role"); ok {
			if p := roleProblem(role); p != "" {
				return failed(422, p)
			}
			if _, err := c.e.db.Exec(`UPDATE `+userTable+` SET role = ?, changed = ? WHERE id = ?`, role, now, id); err != nil {
				return failed(500, err.Error())
			}
		}
		if hash, ok := str("password"); ok && hash != "" {
			if _, err := c.e.db.Exec(`UPDATE `+userTable+` SET password = ?, changed = ? WHERE id = ?`, hash, now, id); err != nil {
				return failed(500, err.Error())
			}
			c.e.endSessions(id)
		}
		return &outcome{status: 200}
	case "remove":
		id, ok := c.userID(email)
		if !ok {
			return failed(404, "no such user")
		}
		if _, err := c.e.db.Exec(`DELETE FROM `+userTable+` WHERE id = ?`, id); err != nil {
			return failed(500, err.Error())
		}
		c.e.endSessions(id)
		c.hasUsersMemo = 0
		return &outcome{status: 204}
	}
	return failed(400, "unknown user command")
}

// usersAllowed says why the caller may not manage users, or "".
func (c *ctx) usersAllowed() string {
	if !c.admin() {
		return "only an administrator manages users"
	}
	return ""
}

// apiUsers answers /api/users: GET the list, POST {"email", "password",
// "role"} to add one.
func (c *ctx) apiUsers() *protocol.Response {
	if why := c.usersAllowed(); why != "" {
		return c.fail(403, why)
	}
	switch {
	case c.get():
		us, err := c.listUsers()
		if err != nil {
			return c.fail(500, err.Error())
		}
		if us == nil {
			us = []userEntry{}
		}
		return c.jsonAnswer(200, "users", us)
	case c.req.Method == "POST":
		var ch userChange
		if why := decodeStrict(c.req.Body, &ch); why != "" {
			return c.fail(400, why)
		}
		id, status, why := c.addUser(ch)
		if why != "" {
			return c.fail(status, why)
		}
		return c.jsonAnswer(201, "id", id, "email", normEmail(*ch.Email))
	}
	return c.methodNotAllowed("GET, POST")
}

// apiUser answers /api/users/ID: PATCH {"role", "password"}, DELETE.
func (c *ctx) apiUser(idText string) *protocol.Response {
	if why := c.usersAllowed(); why != "" {
		return c.fail(403, why)
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return c.fail(404, "no such user")
	}
	switch c.req.Method {
	case "GET", "HEAD":
		us, _ := c.listUsers()
		for _, u := range us {
			if u.ID == id {
				return c.jsonAnswer(200, "user", u)
			}
		}
		return c.fail(404, "no such user")
	case "PATCH":
		var ch userChange
		if why := decodeStrict(c.req.Body, &ch); why != "" {
			return c.fail(400, why)
		}
		if status, why := c.editUser(id, ch); why != "" {
			return c.fail(status, why)
		}
		return c.jsonAnswer(200, "id", id)
	case "DELETE":
		if status, why := c.removeUser(id); why != "" {
			return c.fail(status, why)
		}
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 204, Headers: [][2]string{{"cache-control", "no-store"}}}}
	}
	return c.methodNotAllowed("GET, PATCH, DELETE")
}

// usersPage answers /users: the list with forms to add, change and remove.
func (c *ctx) usersPage(msg string, status int) *protocol.Response {
	if why := c.usersAllowed(); why != "" {
		return c.fail(403, why)
	}
	us, err := c.listUsers()
	if err != nil {
		return c.fail(500, err.Error())
	}
	d := render.UsersData{Page: c.page("Users", link{Text: "Users"}), Message: msg, Error: status >= 400}
	for _, u := range us {
		d.Users = append(d.Users, render.UserEntry{ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Role: u.Role, Changed: u.Changed})
	}
	if status == 0 {
		status = 200
	}
	return html(status, render.UsersPage(&d))
}

// usersForm answers the users page's forms: POST /users (add),
// /users/ID (role or password), /users/ID/delete.
func (c *ctx) usersForm(segs []string) *protocol.Response {
	if why := c.usersAllowed(); why != "" {
		return c.fail(403, why)
	}
	form, bad := c.formBody()
	if bad != nil {
		return bad
	}
	opt := func(k string) *string {
		if !form.Has(k) || form.Get(k) == "" {
			return nil
		}
		v := form.Get(k)
		return &v
	}
	var status int
	var why, done string
	switch {
	case len(segs) == 1:
		_, status, why = c.addUser(userChange{Email: opt("email"), Password: opt("password"), Role: opt("role")})
		done = "Added " + normEmail(form.Get("email")) + "."
	default:
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			return c.fail(404, "no such user")
		}
		if len(segs) == 3 && segs[2] == "delete" {
			status, why = c.removeUser(id)
			done = "Removed the user."
		} else {
			status, why = c.editUser(id, userChange{Password: opt("password"), Role: opt("role")})
			done = "Saved."
		}
	}
	if why != "" {
		return c.usersPage(why, status)
	}
	return c.usersPage(done, 200)
}

// endSessions ends every session of a user's, in the database and here.
func (e *Engine) endSessions(userID int64) {
	if e.live.enabled {
		e.db.Exec(`DELETE FROM "_nakedhtmx_sessions" WHERE user_id = ?`, userID)
	}
	for id, s := range e.sessions.mem {
		if s.user == userID {
			delete(e.sessions.mem, id)
		}
	}
}
