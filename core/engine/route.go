package engine

import (
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"net/url"
	"strconv"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// ctx is one request being answered.
type ctx struct {
	// picks: the table whose list rows were last asked whether they take a
	// bulk checkbox, and the answer (asked once per list, not per row).
	picks struct {
		t  *model.Table
		ok bool
	}
	e     *Engine
	st    *state
	req   *protocol.Request
	segs  []string // unescaped path segments
	raw   []string // the same, still escaped (composite keys split on raw commas)
	query url.Values
	api   bool // under /api: answers are JSON
	hx    bool // an htmx partial request: answer with a fragment
	// stale: the plan from the schema the writer read the row under to
	// this one (a stale form, a write made offline); its version is then
	// checked as the row reads under that schema (remap.go, sameVersion).
	stale *remapPlan
	// offlineID: the command a write becomes takes this id (a copy's
	// command, POST /api/replica/commands, under --write jetstream).
	offlineID string
	// collecting: writes become one write of a batch command (collected)
	// rather than commands of their own (the scale-out mode's batches).
	collecting bool
	collected  []protocol.Command
	// staging: the body is a part of a large import (importCap).
	staging bool
	// uploadErrs: files a form chose that were over the limit (uploadedFiles).
	uploadErrs []fieldError

	applying bool              // running a command from the stream (Apply)
	inTx     bool              // inside Apply's transaction: writes use savepoints
	writing  bool              // inside tx: reads must see the write's own changes
	files    fileWork          // file columns' files this request wrote and let go (files.go)
	command  *protocol.Command // the write this request became (jetstream mode)
	pending  string            // the id of a command this node has not applied yet
	// schemaMoved: another connection changed the schema after this request
	// was planned against it (remapped, validated); its write was not made.
	schemaMoved bool

	queryProblem int  // 400 or 413: the query could not be taken whole
	authed       bool // the caller signed in (or holds the token), as route found
	// cookieSession: the request's session cookie names a live session (1)
	// or not (-1); 0: not asked yet (a lookup in the database).
	cookieSession int8
	// who the request is (users.go), set with authed.
	who principal
	// forAll: what is rendered goes to callers the rules hold differently
	// (a live message's page text): nothing a rule keeps from some of them.
	forAll bool
	// hasUsersMemo: the database has users (1) or not (-1); 0: not asked.
	hasUsersMemo int8

	tableURLs map[string]string // tableURL's answers
	cached    *dataCache        // cache()'s answer until this request writes
	str       arena             // the page's short strings
}

func newCtx(e *Engine, req *protocol.Request) *ctx {
	c := &ctx{e: e, st: e.st, req: req}
	// Past the limit the query is not parsed at all (Go's own parser would
	// give up at 10,000 and hand back nothing: an unfiltered answer).
	if req.Query != "" && strings.Count(req.Query, "&")+strings.Count(req.Query, ";")+1 > e.opts.Config.QueryParamLimit() {
		c.queryProblem = 413
	} else if q, err := url.ParseQuery(req.Query); err != nil {
		c.queryProblem = 400
	} else {
		c.query = q
	}
	if c.query == nil {
		c.query = url.Values{}
	}
	c.hx = req.Headers["hx-request"] == "true" && req.Headers["hx-request-type"] != "full"
	return c
}

func (c *ctx) header(name string) string { return c.req.Headers[name] }

// splitPath unescapes each segment of a raw path; ok is false for bad escapes.
func splitPath(raw string) (segs, rawSegs []string, ok bool) {
	raw = strings.TrimPrefix(raw, "/")
	if raw == "" {
		return nil, nil, true
	}
	rawSegs = strings.Split(raw, "/")
	segs = make([]string, len(rawSegs))
	for i, p := range rawSegs {
		s, err := pathUnescape(p)
		if err != nil {
			return nil, nil, false
		}
		segs[i] = s
	}
	return segs, rawSegs, true
}

// reqPath is a request's path split into its segments, once: Handle asks
// it whether the request is for a static file, route for the rest.
type reqPath struct {
	segs, raw []string // decoded, and still escaped
	ok        bool     // false: a malformed percent escape
}

func parsePath(raw string) reqPath {
	segs, rawSegs, ok := splitPath(raw)
	return reqPath{segs, rawSegs, ok}
}

// asset is the file a request for a static file names: /assets/NAME, read
// with GET or HEAD. Handle answers those before it asks the database
// anything, so they are served while a database server is away.
func (p reqPath) asset(method string) (string, bool) {
	if method != "GET" && method != "HEAD" || !p.ok || len(p.segs) != 2 || p.segs[0] != "assets" {
		return "", false
	}
	return p.segs[1], true
}

func (e *Engine) route(c *ctx, p reqPath) *protocol.Response {
	segs, raw, ok := p.segs, p.raw, p.ok
	c.api = len(segs) > 0 && segs[0] == "api"
	if !ok {
		return c.fail(400, "the path has a malformed percent escape")
	}
	c.segs, c.raw = segs, raw
	if c.req.TooLarge {
		return c.fail(413, "the request body is larger than the server accepts")
	}
	switch c.queryProblem {
	case 413:
		return c.fail(413, "the query has more than "+strconv.Itoa(c.e.opts.Config.QueryParamLimit())+" parameters")
	case 400:
		return c.fail(400, "the query string is malformed")
	}
	if c.e.opts.AuthToken != "" && c.header("authorization") != "" {
		if wait := c.e.throttled(c.clientAddr()); wait > 0 {
			return c.tooManyGuesses(wait)
		}
	}
	if c.req.Probe && len(segs) == 1 && (segs[0] == "signin" || segs[0] == "signout") {
		return c.fail(413, "a sign-in or sign-out form is small")
	}
	if len(segs) == 1 && segs[0] == "signin" {
		return c.signin()
	}
	if len(segs) == 1 && segs[0] == "signout" {
		return c.signout()
	}
	// Once: a wrong token counts once towards the throttle, however many
	// places ask.
	c.authed = c.authorized()
	if !c.authed && !c.publicQuery(segs) {
		if c.api {
			if c.e.opts.AuthToken == "" {
				return c.fail(401, "sign in: POST /signin with email and password, and send the session cookie")
			}
			return c.fail(401, "sign in: send Authorization: Bearer TOKEN")
		}
		return c.signinPage(401, "")
	}
	if isUnsafe(c.req.Method) && c.crossSite() {
		return c.fail(403, "cross-site requests may not change data")
	}
	if c.e.opts.Replica != nil && !replicaServes(c.req.Method, segs, c.e.opts.WriteMode == "jetstream") {
		return c.fail(503, "a local copy cannot do this: it is done on the server, when it can be reached")
	}
	if c.req.Probe {
		// The caller is known: the host may read a body up to its full cap.
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 100}}
	}
	return c.dispatch(segs, raw)
}

func isUnsafe(m string) bool { return m != "GET" && m != "HEAD" && m != "OPTIONS" }

// crossSite reports a request a browser says came from another site.
func (c *ctx) crossSite() bool {
	if c.header("sec-fetch-site") == "cross-site" {
		return true
	}
	origin := c.header("origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return true // "null" and garbage origins are never ours
	}
	return !strings.EqualFold(u.Host, c.header("host"))
}

// authorized finds who the request is (users.go, principal) and says
// whether that is someone.
func (c *ctx) authorized() bool {
	if r := c.e.opts.Replica; r != nil {
		c.who = r.who // a copy is one person's: the one it was made for
		return true
	}
	tok := c.e.opts.AuthToken
	if h := c.header("authorization"); tok != "" && len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		ok := digest.Equal([]byte(h[7:]), []byte(tok))
		if !ok {
			c.e.missed(c.clientAddr())
		} else {
			c.who = principal{admin: true, token: true}
		}
		return ok
	}
	if c.signedInByCookie() {
		return true
	}
	if tok == "" && !c.hasUsers() {
		c.who = principal{admin: true} // one person's app
		return true
	}
	return false
}

// table finds a user table by its unescaped name, as the caller may see it
// (state.vis): system and hidden tables are unknown, hidden columns absent.
func (c *ctx) table(name string) *model.Table { return c.st.vis.Table(name) }

func constantEq(a, b string) bool { return digest.Equal([]byte(a), []byte(b)) }
