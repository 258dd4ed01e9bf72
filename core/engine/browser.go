package engine

// Browser safety (CONTRACT, "Browser safety"): which Host names a request may
// carry, the headers every answer carries, and sign-in sessions. Every host
// (Deno, Bun, Node, native Go, wazero, the library mounted in Hono or
// Express) passes requests through Handle, so deciding here decides for all.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/hosts"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
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

// Sessions: signing in with the token makes a random id that the cookie
// carries; the token is never part of a cookie. Sessions are kept in the
// database ("_nakedhtmx_sessions"), so a restart keeps them, every process
// on the file sees them, and signing out ends one everywhere. The table
// holds the SHA-256 of the id (a copy of the file holds no live cookie) and
// of the token it was made with (a new token ends every session made with
// the old one), and its end. A database that cannot be written keeps them
// in this engine's memory instead, as they all were before: a restart (or a
// new instance after a trap) ends those. Each node of a cluster keeps its
// own, in its own database.

const (
	cookieName  = "nakedhtmx_session"
	maxSessions = 10000
)

type sessions struct {
	expires map[string]int64 // id -> unix seconds
}

func (e *Engine) now() time.Time {
	if e.opts.Clock != nil {
		return e.opts.Clock()
	}
	return time.Now()
}

// hashHex is the SHA-256 of s, in hex: how the table keeps ids and tokens.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// startSession stores and returns a fresh session id that lasts ttl
// seconds: in the database where it can be written, else in memory.
func (c *ctx) startSession(ttl int64) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("no randomness for a session id: " + err.Error())
	}
	id := hex.EncodeToString(b[:])
	e := c.e
	now := e.now().Unix()
	if e.live.enabled { // a database this engine writes
		setup := e.store.SessionsSetup()
		if setup == "" || e.db.Script(setup) == nil {
			e.db.Exec(`DELETE FROM "_nakedhtmx_sessions" WHERE expires <= ?`, now)
			if _, err := e.db.Exec(`INSERT INTO "_nakedhtmx_sessions" (id, token, expires) VALUES (?, ?, ?)`,
				hashHex(id), e.tokenHash, now+ttl); err == nil {
				return id
			}
		}
	}
	e.rememberSession(id, now+ttl)
	return id
}

// rememberSession keeps a session in memory (a database this engine does not
// write), ending at the unix second until.
func (e *Engine) rememberSession(id string, until int64) {
	now := e.now().Unix()
	s := &e.sessions
	if s.expires == nil {
		s.expires = map[string]int64{}
	}
	if len(s.expires) >= maxSessions {
		// Drop the expired ones; still full, the one that ends first.
		oldest, oldestAt := "", int64(0)
		for k, at := range s.expires {
			if at <= now {
				delete(s.expires, k)
			} else if oldest == "" || at < oldestAt {
				oldest, oldestAt = k, at
			}
		}
		if len(s.expires) >= maxSessions {
			delete(s.expires, oldest)
		}
	}
	s.expires[id] = until
}

// session reports whether id is a live session of the current token; an
// expired one is forgotten.
func (e *Engine) session(id string) bool {
	if e.live.enabled {
		rs, err := e.db.Query(`SELECT 1 FROM "_nakedhtmx_sessions" WHERE id = ? AND token = ? AND expires > ?`,
			hashHex(id), e.tokenHash, e.now().Unix())
		if err == nil && len(rs.Values) == 1 {
			return true
		}
	}
	at, ok := e.sessions.expires[id]
	if !ok {
		return false
	}
	if at <= e.now().Unix() {
		delete(e.sessions.expires, id)
		return false
	}
	return true
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

// signedInByCookie: the page was asked for with a live session cookie, so it
// offers to sign out.
func (c *ctx) signedInByCookie() bool {
	if c.e.opts.AuthToken == "" {
		return false
	}
	if c.cookieSession == 0 {
		c.cookieSession = -1
		if id := c.sessionCookie(); id != "" && c.e.session(id) {
			c.cookieSession = 1
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
		delete(c.e.sessions.expires, id)
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

type misses struct {
	count int
	until int64 // unix seconds: refused until then
	last  int64
}

// throttled says how many seconds a client must still wait (0: none).
func (e *Engine) throttled(remote string) int64 {
	m := e.guard.clients[remote]
	if m == nil {
		return 0
	}
	if wait := m.until - e.now().Unix(); wait > 0 {
		return wait
	}
	return 0
}

// missed counts a wrong token from a client and starts or lengthens its wait.
func (e *Engine) missed(remote string) {
	now := e.now().Unix()
	g := &e.guard
	if g.clients == nil {
		g.clients = map[string]*misses{}
	}
	m := g.clients[remote]
	if m == nil {
		if len(g.clients) >= maxThrottled {
			for k, old := range g.clients { // forget the quiet ones first
				if old.until < now && now-old.last > maxLockout {
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
	if now-m.last > maxLockout {
		m.count = 0 // quiet long enough: start over
	}
	m.count++
	m.last = now
	if m.count > freeMisses {
		wait := int64(1) << min(m.count-freeMisses-1, 9)
		m.until = now + min(wait, maxLockout)
	}
}

// tooManyGuesses is the 429 a throttled client gets.
func (c *ctx) tooManyGuesses(wait int64) *protocol.Response {
	res := c.fail(429, "too many wrong tokens from this address: try again in "+strconv.FormatInt(wait, 10)+" s")
	res.Headers = append(res.Headers, [2]string{"retry-after", strconv.FormatInt(wait, 10)})
	return res
}
