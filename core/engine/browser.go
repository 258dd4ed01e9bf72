package engine

// Browser safety (CONTRACT, "Browser safety"): which Host names a request may
// carry, the headers every answer carries, and sign-in sessions. Every host
// (Deno, Bun, Node, native Go, wazero, the library mounted in Hono or
// Express) passes requests through Handle, so deciding here decides for all.

import (
	"encoding/hex"
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"github.com/nakedhtmx/nakedhtmx/core/entropy"
	"strconv"
	"strings"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/hosts"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// hostPattern is one allowed Host: a name, and a port when it must match too.
type hostPattern struct{ name, port string }

func hostPatterns(allowed []string) []hostPattern {
	out := make([]hostPattern, 0, len(allowed)+len(hosts.Loopback))
	for _, h := range hosts.Loopback {
		out = append(out, hostPattern{name: h})
	}
	for _, h := range allowed {
		if name, port, ok := hosts.Split(h); ok {
			out = append(out, hostPattern{name: name, port: port})
		}
	}
	return out
}

// hostAllowed: the request's Host names this server (DNS rebinding guard).
func (e *Engine) hostAllowed(h string) bool {
	name, port, ok := hosts.Split(h)
	if !ok {
		return false
	}
	for _, p := range e.hosts {
		if p.name == name && (p.port == "" || p.port == port) {
			return true
		}
	}
	return false
}

// misdirected is the answer to a Host this server does not answer to. It
// names no table and echoes nothing of the request.
func misdirected() *protocol.Response {
	return response(421, "text/plain; charset=utf-8",
		[]byte("nakedhtmx: this server answers only to localhost, 127.0.0.1, [::1], its listen address and the names given with --allowed-host (allowedHosts in the library); the request's Host is none of them.\n"),
		[2]string{"cache-control", "no-store"}, [2]string{"x-content-type-options", "nosniff"})
}

// securityHeaders are added to every answer of the core: HTML pages above
// all, but a JSON body, an asset or an error cannot be framed or sniffed
// either. The pages need no inline script or style and no eval (htmx's
// hx-on and js: are not used), so the policy allows only this origin.
func securityHeaders(embed []string) [][2]string {
	ancestors := "'none'"
	if len(embed) > 0 {
		ancestors = strings.Join(embed, " ")
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors " + ancestors
	h := [][2]string{
		{"content-security-policy", csp},
		{"x-content-type-options", "nosniff"},
		{"referrer-policy", "same-origin"},
	}
	if len(embed) == 0 {
		// For browsers older than frame-ancestors; it cannot list origins, so
		// it is left out when the config allows some.
		h = append(h, [2]string{"x-frame-options", "DENY"})
	}
	return h
}

// secure adds the security headers to an answer's head (once).
func (e *Engine) secure(res *protocol.Response) *protocol.Response {
	if res == nil {
		return res
	}
	for _, h := range res.Headers {
		if h[0] == "content-security-policy" {
			return res
		}
	}
	res.Headers = append(res.Headers, e.secHeaders...)
	return res
}

// Sessions: signing in (with the token, or as a user) makes a random id
// that the cookie carries; the token or password is never part of a
// cookie. Sessions are kept in the database ("_nakedhtmx_sessions"), so a
// restart keeps them, every process on the file sees them, and signing out
// (or a user's removal or new password) ends one everywhere. The table
// holds the SHA-256 of the id (a copy of the file holds no live cookie);
// for a token's session the SHA-256 of the token (a new token ends every
// session made with the old one), for a user's the user's id; and its end.
// A database that cannot be written keeps them in this engine's memory
// instead: a restart (or a new instance after a trap) ends those. Each
// node of a cluster keeps its own, in its own database.

const (
	cookieName  = "nakedhtmx_session"
	maxSessions = 10000
)

type sessions struct {
	mem map[string]memSession // id -> the session, where the database cannot be written
}

type memSession struct {
	until int64 // unix seconds
	user  int64 // 0: the token's
}

func (e *Engine) now() time.Time {
	if e.opts.Clock != nil {
		return e.opts.Clock()
	}
	return time.Now()
}

// hashHex is the SHA-256 of s, in hex: how the table keeps ids and tokens.
func hashHex(s string) string {
	sum := digest.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// startSession stores and returns a fresh session id that lasts ttl
// seconds, for a user (0: the token): in the database where it can be
// written, else in memory.
func (c *ctx) startSession(ttl, user int64) string {
	var b [32]byte
	if err := entropy.Read(b[:]); err != nil {
		panic("no randomness for a session id: " + err.Error())
	}
	id := hex.EncodeToString(b[:])
	e := c.e
	now := e.now().Unix()
	if e.live.enabled { // a database this engine writes
		setup := e.store.SessionsSetup()
		if setup == "" || e.db.Script(setup) == nil {
			e.db.Exec(`DELETE FROM "_nakedhtmx_sessions" WHERE expires <= ?`, now)
			var uid any
			tok := e.tokenHash
			if user != 0 {
				uid, tok = user, "user"
			}
			_, err := e.db.Exec(`INSERT INTO "_nakedhtmx_sessions" (id, token, expires, user_id) VALUES (?, ?, ?, ?)`,
				hashHex(id), tok, now+ttl, uid)
			if err != nil && strings.Contains(err.Error(), "user_id") {
				// A table made before users came: it gains the column.
				if _, aerr := e.db.Exec(`ALTER TABLE "_nakedhtmx_sessions" ADD COLUMN user_id INTEGER`); aerr == nil {
					_, err = e.db.Exec(`INSERT INTO "_nakedhtmx_sessions" (id, token, expires, user_id) VALUES (?, ?, ?, ?)`,
						hashHex(id), tok, now+ttl, uid)
				}
			}
			if err == nil {
				return id
			}
		}
	}
	e.rememberSession(id, memSession{until: now + ttl, user: user})
	return id
}

// rememberSession keeps a session in memory (a database this engine does
// not write).
func (e *Engine) rememberSession(id string, s memSession) {
	now := e.now().Unix()
	ss := &e.sessions
	if ss.mem == nil {
		ss.mem = map[string]memSession{}
	}
	if len(ss.mem) >= maxSessions {
		// Drop the expired ones; still full, the one that ends first.
		oldest, oldestAt := "", int64(0)
		for k, old := range ss.mem {
			if old.until <= now {
				delete(ss.mem, k)
			} else if oldest == "" || old.until < oldestAt {
				oldest, oldestAt = k, old.until
			}
		}
		if len(ss.mem) >= maxSessions {
			delete(ss.mem, oldest)
		}
	}
	ss.mem[id] = s
}

// session is who the live session id is, or nil: a session of the current
// token, or of a user who is still there. An expired one is forgotten.
func (c *ctx) session(id string) *principal {
	e := c.e
	if e.live.enabled {
		q := `SELECT token, user_id, NULL, NULL FROM "_nakedhtmx_sessions" WHERE id = ? AND expires > ?`
		if c.usersTableThere() {
			q = `SELECT s.token, s.user_id, u.email, u.role FROM "_nakedhtmx_sessions" s LEFT JOIN ` + userTable +
				` u ON u.id = s.user_id WHERE s.id = ? AND s.expires > ?`
		}
		rs, err := e.db.Query(q, hashHex(id), e.now().Unix())
		if err == nil && len(rs.Values) == 1 {
			v := rs.Values[0]
			if v[1] == nil {
				if e.opts.AuthToken != "" && sqldb.Text(v[0]) == e.tokenHash {
					return &principal{admin: true, token: true}
				}
				return nil
			}
			if v[2] == nil {
				return nil // the user is gone
			}
			u := userRow([]any{v[1], v[2], v[3]})
			return &principal{user: u, admin: u.Role == AdminRole}
		}
	}
	s, ok := e.sessions.mem[id]
	if !ok {
		return nil
	}
	if s.until <= e.now().Unix() {
		delete(e.sessions.mem, id)
		return nil
	}
	if s.user == 0 {
		if e.opts.AuthToken == "" {
			return nil
		}
		return &principal{admin: true, token: true}
	}
	u := c.userOf(s.user)
	if u == nil {
		return nil
	}
	return &principal{user: u, admin: u.Role == AdminRole}
}

// sessionCookie is the request's session cookie value, or "".
func (c *ctx) sessionCookie() string {
	for _, part := range strings.Split(c.header("cookie"), ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k == cookieName && len(v) == 64 {
			return v
		}
	}
	return ""
}

func (c *ctx) cookie(value string, maxAge int64) string {
	secure := ""
	if c.overHTTPS() {
		secure = "; Secure"
	}
	return cookieName + "=" + value + "; Path=" + c.e.opts.BasePath + "/; Max-Age=" + strconv.FormatInt(maxAge, 10) +
		"; HttpOnly; SameSite=Strict" + secure
}

// Behind a reverse proxy the config trusts (config TrustedProxies), the
// socket's address is the proxy's: what the proxy says about the client is
// taken from it, and from nothing else, so no client can name itself.

// clientAddr is whom a request is counted against (wrong sign-ins): the
// host's socket address, or, from a trusted proxy, the nearest address in
// X-Forwarded-For that is no trusted proxy.
func (c *ctx) clientAddr() string {
	cfg := c.e.opts.Config
	remote := c.req.Remote
	if !cfg.TrustedProxy(remote) {
		return remote
	}
	hops := strings.Split(c.header("x-forwarded-for"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			break
		}
		if !cfg.TrustedProxy(hop) {
			return hop
		}
		remote = hop
	}
	return remote
}

// overHTTPS: a trusted proxy says the client spoke HTTPS to it (the hosts
// themselves serve plain HTTP), so the session cookie is sent only so.
func (c *ctx) overHTTPS() bool {
	if !c.e.opts.Config.TrustedProxy(c.req.Remote) {
		return false
	}
	protos := strings.Split(c.header("x-forwarded-proto"), ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}

// signedInByCookie: the request carries a live session cookie; who it is
// becomes the request's principal.
func (c *ctx) signedInByCookie() bool {
	if r := c.e.opts.Replica; r != nil {
		return r.signedIn // as the server saw the copy's caller
	}
	if c.cookieSession == 0 {
		c.cookieSession = -1
		if c.e.opts.AuthToken == "" && !c.usersTableThere() && len(c.e.sessions.mem) == 0 {
			return false // no way to have signed in: nothing to ask
		}
		if id := c.sessionCookie(); id != "" {
			if p := c.session(id); p != nil {
				c.who = *p
				c.cookieSession = 1
			}
		}
	}
	return c.cookieSession == 1
}

// signout ends the request's session (POST only, never from another site)
// and clears the cookie, signed in or not.
func (c *ctx) signout() *protocol.Response {
	if c.req.Method != "POST" {
		return c.methodNotAllowed("POST")
	}
	if c.crossSite() {
		return c.fail(403, "cross-site requests may not sign out")
	}
	if id := c.sessionCookie(); id != "" {
		delete(c.e.sessions.mem, id)
		if c.e.live.enabled {
			c.e.db.Exec(`DELETE FROM "_nakedhtmx_sessions" WHERE id = ?`, hashHex(id))
		}
	}
	where := c.e.opts.BasePath + "/signin"
	if c.api {
		where = c.e.opts.BasePath + "/"
	}
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 303, Headers: [][2]string{
		{"location", where}, {"set-cookie", c.cookie("", 0)}, {"cache-control", "no-store"}}}}
}

// Guessing the token: every client (by the address the host saw) may get it
// wrong a few times; past that, every request of that client that carries a
// token (a bearer header or the sign-in form) is answered 429 with
// Retry-After for a while that doubles with each further miss, the right
// token included, so a guesser learns nothing while it waits. Clients that
// send no token are not slowed.
const (
	freeMisses   = 5
	maxLockout   = 300 // seconds
	maxThrottled = 10000
)

type throttle struct {
	clients map[string]*misses
}

// Times are kept in milliseconds: in whole seconds a "1 s" wait that began
// late in a second would end at the next tick, after almost nothing.
type misses struct {
	count int
	until int64 // unix ms: refused until then
	last  int64 // unix ms
}

// throttled says how many seconds a client must still wait (0: none),
// rounded up so Retry-After never promises less than the wait.
func (e *Engine) throttled(remote string) int64 {
	m := e.guard.clients[remote]
	if m == nil {
		return 0
	}
	if wait := m.until - e.now().UnixMilli(); wait > 0 {
		return (wait + 999) / 1000
	}
	return 0
}

// missed counts a wrong token from a client and starts or lengthens its wait.
func (e *Engine) missed(remote string) {
	now := e.now().UnixMilli()
	const quiet = maxLockout * 1000
	g := &e.guard
	if g.clients == nil {
		g.clients = map[string]*misses{}
	}
	m := g.clients[remote]
	if m == nil {
		if len(g.clients) >= maxThrottled {
			for k, old := range g.clients { // forget the quiet ones first
				if old.until < now && now-old.last > quiet {
					delete(g.clients, k)
				}
			}
			if len(g.clients) >= maxThrottled {
				return // still full: the host's own limits must hold
			}
		}
		m = &misses{}
		g.clients[remote] = m
	}
	if now-m.last > quiet {
		m.count = 0 // quiet long enough: start over
	}
	m.count++
	m.last = now
	if m.count > freeMisses {
		wait := int64(1) << min(m.count-freeMisses-1, 9)
		m.until = now + min(wait, maxLockout)*1000
	}
}

// tooManyGuesses is the 429 a throttled client gets.
func (c *ctx) tooManyGuesses(wait int64) *protocol.Response {
	res := c.fail(429, "too many wrong tokens from this address: try again in "+strconv.FormatInt(wait, 10)+" s")
	res.Headers = append(res.Headers, [2]string{"retry-after", strconv.FormatInt(wait, 10)})
	return res
}
