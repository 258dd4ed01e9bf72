package engine

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
)

// Route is one kind of path the core answers, after sign-in (route.go
// answers /assets/, /signin and /signout before it). The router finds a
// request's route in this table and nowhere else, so the table is the whole
// surface: the route walk (hidden_test.go) tries every entry, and a route
// added without an entry cannot be reached.
type Route struct {
	// Pattern is the path, segment by segment: a literal, or one of
	// {table} (a table the caller may see, else 404), {key} (a row key as
	// the URL spells it), {id} (a command id), {query} (a stored query
	// the caller may run, else 404) and {name} (a stored query's name, which
	// may be new: the route checks it).
	Pattern string
	// Methods are those the route answers; others get 405 from the route.
	Methods []string
	// when, if set, must hold for the route to exist (a feature that is off).
	when func(c *ctx, t *model.Table) bool
	// serve answers; raw is the path's segments still escaped.
	serve func(c *ctx, t *model.Table, segs, raw []string) *protocol.Response
	// segs is Pattern split once, at start: matching runs on every request.
	segs []string
}

// Routes lists every route the router knows.
func Routes() []Route { return routes }

var routes []Route

func init() {
	live := func(c *ctx, _ *model.Table) bool { return c.e.live.enabled }
	routes = []Route{
		{Pattern: "/", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.index() })},
		{Pattern: "/commands/{id}", Methods: []string{"GET"}, serve: func(c *ctx, _ *model.Table, segs, _ []string) *protocol.Response {
			return c.commandStatus(segs[1])
		}},
		{Pattern: "/users", Methods: []string{"GET", "POST"}, serve: func(c *ctx, _ *model.Table, segs, _ []string) *protocol.Response {
			if c.get() {
				return c.usersPage("", 0)
			}
			if c.req.Method != "POST" {
				return c.methodNotAllowed("GET, POST")
			}
			return c.usersForm(segs)
		}},
		{Pattern: "/users/{id}", Methods: []string{"POST"}, serve: postOnly(func(c *ctx, _ *model.Table, segs []string) *protocol.Response { return c.usersForm(segs) })},
		{Pattern: "/users/{id}/delete", Methods: []string{"POST"}, serve: postOnly(func(c *ctx, _ *model.Table, segs []string) *protocol.Response { return c.usersForm(segs) })},
		{Pattern: "/rules", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.rulesPage("", 0, nil) })},
		{Pattern: "/rules/{table}", Methods: []string{"POST"}, serve: postOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.rulesForm(t) })},
		{Pattern: "/api/users", Methods: []string{"GET", "POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response { return c.apiUsers() }},
		{Pattern: "/api/users/{id}", Methods: []string{"GET", "PATCH", "DELETE"}, serve: func(c *ctx, _ *model.Table, segs, _ []string) *protocol.Response {
			return c.apiUser(segs[2])
		}},
		{Pattern: "/t/{table}", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.listPage(t) })},
		{Pattern: "/t/{table}/groups", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.groupsPage(t) })},
		{Pattern: "/t/{table}/new", Methods: []string{"GET", "POST"}, serve: (*ctx).newRoute},
		{Pattern: "/t/{table}/import", Methods: []string{"GET", "POST"}, serve: (*ctx).importRoute},
		{Pattern: "/t/{table}/bulk", Methods: []string{"POST"}, when: func(c *ctx, t *model.Table) bool { return c.bulkable(t) }, serve: (*ctx).bulkRoute},
		{Pattern: "/t/{table}/options", Methods: []string{"GET"}, serve: func(c *ctx, t *model.Table, _, _ []string) *protocol.Response {
			return c.options(t)
		}},
		{Pattern: "/t/{table}/changes", Methods: []string{"GET"},
			when:  func(c *ctx, t *model.Table) bool { return !t.View && c.e.live.enabled },
			serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.changesPage(t) })},
		{Pattern: "/t/{table}/live", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.events(t.Name, "page") })},
		{Pattern: "/t/{table}/r/{key}", Methods: []string{"GET", "POST"}, serve: (*ctx).rowRoute},
		{Pattern: "/t/{table}/r/{key}/history", Methods: []string{"GET"}, when: live, serve: (*ctx).rowRoute},
		{Pattern: "/t/{table}/r/{key}/delete", Methods: []string{"GET", "POST"}, serve: (*ctx).rowRoute},

		{Pattern: "/t/{table}/structure", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.structurePage(t) })},
		{Pattern: "/structure", Methods: []string{"POST"}, serve: postOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.structurePost() })},
		{Pattern: "/structure/new", Methods: []string{"GET", "POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			switch {
			case c.get():
				return c.newTablePage()
			case c.req.Method == "POST":
				return c.newTableFromFile()
			}
			return c.methodNotAllowed("GET, POST")
		}},
		{Pattern: "/api/structure", Methods: []string{"POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			return c.apiStructure()
		}},
		{Pattern: "/sql", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.sqlPage() })},
		{Pattern: "/live", Methods: []string{"GET"}, when: live, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.events("", "page") })},
		{Pattern: "/sql/save", Methods: []string{"POST"}, serve: postOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.saveQueryForm() })},
		{Pattern: "/q/{query}", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, segs []string) *protocol.Response { return c.queryPage(segs[1]) })},
		{Pattern: "/q/{query}/delete", Methods: []string{"POST"}, serve: postOnly(func(c *ctx, _ *model.Table, segs []string) *protocol.Response { return c.deleteQueryForm(segs[1]) })},
		{Pattern: "/api/sql", Methods: []string{"GET", "POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			if !c.get() && c.req.Method != "POST" {
				return c.methodNotAllowed("GET, POST")
			}
			return c.apiSQL(false)
		}},
		{Pattern: "/api/sql.csv", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.apiSQL(true) })},
		{Pattern: "/api/queries", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.apiQueries() })},
		{Pattern: "/api/queries/{name}", Methods: []string{"GET", "POST", "PUT", "DELETE"}, serve: func(c *ctx, _ *model.Table, segs, _ []string) *protocol.Response {
			return c.apiQueryRoute(segs[2])
		}},
		{Pattern: "/api/queries/{query}/rows.csv", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, segs []string) *protocol.Response { return c.apiQuery(segs[2], true) })},
		{Pattern: "/api/batch", Methods: []string{"POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			return c.apiBatch()
		}},
		{Pattern: "/api/migrations", Methods: []string{"POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			return c.migration()
		}},
		{Pattern: "/api/commands", Methods: []string{"GET"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			return c.commandSchemas()
		}},
		{Pattern: "/api/commands/{id}", Methods: []string{"GET"}, serve: func(c *ctx, _ *model.Table, segs, _ []string) *protocol.Response {
			return c.commandStatus(segs[2])
		}},
		{Pattern: "/api/replica", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, _ *model.Table, _ []string) *protocol.Response { return c.replicaAnswer() })},
		{Pattern: "/api/replica/changes", Methods: []string{"GET", "POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			if c.get() {
				return c.replicaChanges()
			}
			if c.req.Method != "POST" {
				return c.methodNotAllowed("GET, POST")
			}
			return c.replicaCatchUp()
		}},
		{Pattern: "/api/replica/commands", Methods: []string{"POST"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			if c.req.Method != "POST" {
				return c.methodNotAllowed("POST")
			}
			return c.replicaCommand()
		}},
		{Pattern: "/api/replica/tables/{table}/rows", Methods: []string{"GET", "POST"}, serve: func(c *ctx, t *model.Table, _, _ []string) *protocol.Response {
			if c.get() {
				return c.replicaRows(t)
			}
			if c.req.Method != "POST" {
				return c.methodNotAllowed("GET, POST")
			}
			return c.replicaLoad(t)
		}},
		{Pattern: "/api/schema", Methods: []string{"GET"}, serve: (*ctx).schemaAnswer},
		{Pattern: "/api/schema/{table}", Methods: []string{"GET"}, serve: (*ctx).tableSchemaAnswer},
		{Pattern: "/api/events", Methods: []string{"GET"}, serve: func(c *ctx, _ *model.Table, _, _ []string) *protocol.Response {
			if !c.get() {
				return c.methodNotAllowed("GET")
			}
			table := c.query.Get("table")
			if table != "" && c.table(table) == nil {
				return c.fail(404, "no such table: "+table)
			}
			return c.events(table, "api")
		}},
		{Pattern: "/api/tables/{table}/rows", Methods: []string{"GET", "POST"}, serve: func(c *ctx, t *model.Table, _, _ []string) *protocol.Response {
			switch {
			case c.get():
				return c.apiList(t)
			case c.req.Method == "POST":
				return c.apiCreate(t)
			}
			return c.methodNotAllowed("GET, POST")
		}},
		{Pattern: "/api/tables/{table}/imports", Methods: []string{"POST"}, serve: func(c *ctx, t *model.Table, _, _ []string) *protocol.Response {
			return c.importsRoute(t, nil)
		}},
		{Pattern: "/api/tables/{table}/imports/{id}", Methods: []string{"POST", "DELETE"}, serve: func(c *ctx, t *model.Table, segs, _ []string) *protocol.Response {
			return c.importsRoute(t, segs[4:])
		}},
		{Pattern: "/api/tables/{table}/imports/{id}/commit", Methods: []string{"POST"}, serve: func(c *ctx, t *model.Table, segs, _ []string) *protocol.Response {
			return c.importsRoute(t, segs[4:])
		}},
		{Pattern: "/api/tables/{table}/groups", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.apiGroups(t) })},
		{Pattern: "/api/tables/{table}/rows.csv", Methods: []string{"GET"}, serve: getOnly(func(c *ctx, t *model.Table, _ []string) *protocol.Response { return c.csvExport(t) })},
		{Pattern: "/api/tables/{table}/rows/{key}", Methods: []string{"GET", "PATCH", "DELETE"}, serve: (*ctx).apiRowRoute},
		{Pattern: "/api/tables/{table}/rows/{key}/{name}", Methods: []string{"GET"}, when: func(c *ctx, t *model.Table) bool { return t.Addressable() }, serve: (*ctx).valueRoute},
	}
	for i := range routes {
		if p := strings.TrimPrefix(routes[i].Pattern, "/"); p != "" {
			routes[i].segs = strings.Split(p, "/")
		}
	}
}

func (c *ctx) get() bool { return c.req.Method == "GET" || c.req.Method == "HEAD" }

// getOnly is a route's serve for one that answers GET (and HEAD) only:
// other methods get 405.
func getOnly(serve func(c *ctx, t *model.Table, segs []string) *protocol.Response) func(*ctx, *model.Table, []string, []string) *protocol.Response {
	return func(c *ctx, t *model.Table, segs, _ []string) *protocol.Response {
		if !c.get() {
			return c.methodNotAllowed("GET")
		}
		return serve(c, t, segs)
	}
}

// postOnly is getOnly for a route that answers POST only (a form's).
func postOnly(serve func(c *ctx, t *model.Table, segs []string) *protocol.Response) func(*ctx, *model.Table, []string, []string) *protocol.Response {
	return func(c *ctx, t *model.Table, segs, _ []string) *protocol.Response {
		if c.req.Method != "POST" {
			return c.methodNotAllowed("POST")
		}
		return serve(c, t, segs)
	}
}

// dispatch finds the request's route and answers with it: 404 when none
// matches (or its table is not one the caller may see).
func (c *ctx) dispatch(segs, raw []string) *protocol.Response {
	for i := range routes {
		r := &routes[i]
		t, ok, resp := c.match(r, segs)
		if resp != nil {
			return resp
		}
		if ok {
			return r.serve(c, t, segs, raw)
		}
	}
	if c.api {
		return c.fail(404, "no such API route: "+c.req.Path)
	}
	return c.fail(404, "no such page")
}

// match says whether segs fit r's pattern, with its table; resp is an
// answer that ends the search (the table is unknown: nothing else can fit,
// since every pattern that names a table begins the same way).
func (c *ctx) match(r *Route, segs []string) (t *model.Table, ok bool, resp *protocol.Response) {
	pat := r.segs
	if len(pat) != len(segs) {
		return nil, false, nil
	}
	for i, p := range pat {
		switch p {
		case "{key}", "{id}", "{name}":
		case "{query}":
			if !c.runnable(segs[i]) {
				return nil, false, c.fail(404, "no such query: "+segs[i])
			}
		case "{table}":
			if t = c.table(segs[i]); t == nil {
				return nil, false, c.fail(404, "no such table: "+segs[i])
			}
			if tr := c.held(t); tr != nil && tr.Broken != "" {
				return nil, false, c.fail(500, tr.Broken)
			}
		default:
			if segs[i] != p {
				return nil, false, nil
			}
		}
	}
	if r.when != nil && !r.when(c, t) {
		return nil, false, nil
	}
	return t, true, nil
}

func (c *ctx) newRoute(t *model.Table, _, _ []string) *protocol.Response {
	if why := c.writable(t, "insert"); why != "" {
		return c.fail(403, why)
	}
	if c.get() {
		return c.newPage(t, nil, nil, "")
	}
	if c.req.Method == "POST" {
		return c.htmlCreate(t)
	}
	return c.methodNotAllowed("GET, POST")
}

// rowRoute answers /t/{table}/r/{key} and its history and delete pages.
func (c *ctx) rowRoute(t *model.Table, segs, raw []string) *protocol.Response {
	m := c.req.Method
	key, err := parseKey(t, raw[3])
	if err != nil {
		return c.fail(404, "no such row")
	}
	r, err := c.readRow(t, key)
	if err != nil {
		return c.failOutcome(c.dbFailure(err))
	}
	if r == nil {
		if c.req.Command != "" && len(segs) == 5 && segs[4] == "delete" && m == "POST" {
			// Asked again about a delete that became a command: applied, the row is gone.
			if o := c.commandOutcome(t); o.status != 204 {
				return c.failOutcome(o)
			}
			return c.redirect(c.tableURL(t.Name))
		}
		return c.fail(404, "no such row in "+t.Name)
	}
	if len(segs) == 5 && segs[4] == "history" {
		return c.historyFragment(t, r)
	}
	if len(segs) == 5 { // delete
		if why := c.writable(t, "delete"); why != "" {
			return c.fail(403, why)
		}
		if c.get() {
			return c.confirmPage(t, r)
		}
		if m == "POST" {
			return c.htmlDelete(t, r)
		}
		return c.methodNotAllowed("GET, POST")
	}
	if c.get() {
		if asof := c.query.Get("asof"); asof != "" {
			return c.asOf(t, raw[3], asof)
		}
		return c.rowPage(t, r, nil, nil, "")
	}
	if m == "POST" {
		return c.htmlUpdate(t, r)
	}
	return c.methodNotAllowed("GET, POST")
}

// apiRowRoute answers /api/tables/{table}/rows/{key}.
func (c *ctx) apiRowRoute(t *model.Table, segs, raw []string) *protocol.Response {
	get := c.get()
	if !t.Addressable() {
		if get {
			return c.fail(404, t.Name+" is a view: its rows have no key to address them by")
		}
		return c.fail(403, c.writable(t, "update"))
	}
	key, err := parseKey(t, raw[4])
	if err != nil {
		return c.fail(404, "no such row: "+segs[4])
	}
	switch {
	case get:
		r, err := c.readRow(t, key)
		if err != nil {
			return c.answer(c.dbFailure(err))
		}
		if r == nil {
			return c.fail(404, "no such row: "+segs[4])
		}
		return c.rowAnswer(200, r)
	case c.req.Method == "PATCH":
		return c.apiUpdate(t, key)
	case c.req.Method == "DELETE":
		return c.answer(c.remove(t, key, c.header("if-match")))
	}
	return c.methodNotAllowed("GET, PATCH, DELETE")
}

// schemaAnswer answers /api/schema: every table the caller may see.
func (c *ctx) schemaAnswer(_ *model.Table, _, _ []string) *protocol.Response {
	if !c.get() {
		return c.methodNotAllowed("GET")
	}
	tables := schema.NewObject()
	for _, t := range c.st.vis.Tables {
		if c.table(t.Name) != nil {
			tables.Set(t.Name, newObj("schema", c.st.schemas[t.Name], "ui", c.st.ui[t.Name]))
		}
	}
	return c.jsonAnswer(200, "tables", tables)
}

// tableSchemaAnswer answers /api/schema/{table}: its JSON Schema document.
func (c *ctx) tableSchemaAnswer(t *model.Table, _, _ []string) *protocol.Response {
	if !c.get() {
		return c.methodNotAllowed("GET")
	}
	doc := schema.NewObject()
	s := c.st.schemas[t.Name]
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		doc.Set(k, v)
	}
	doc.Set("x-dsid", c.st.dsid)
	return response(200, "application/schema+json", jsonBody(doc), [2]string{"cache-control", "no-store"})
}
