package engine

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/readsql"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
)

// Saving a stored query from the app (issue 17): the SQL page's "Save as a
// query", a query page's "Delete", and PUT and DELETE /api/queries/NAME.
// The config file is the user's: the core edits its text (config.SetQuery:
// that member's bytes only) and hands the new text to the host
// (protocol.ResponseHead.ConfigText), which writes it where it read it,
// applies it and only then sends the answer; a file changed meanwhile is
// not overwritten (the host asks again with RequestHead.ConfigError).

// configWriter says why the caller may not change the config ("" if they
// may): the host must be able to write it back (a config file, not an
// object an embedder passed), the SQL page must be on for the caller, the
// config must not turn saving off, and with --auth-token the caller must
// hold it (the token is the administrator's).
func (c *ctx) configWriter() string {
	switch {
	case !c.e.opts.ConfigWritable:
		return "this server cannot change its config: it was given no config file to write (--config)"
	case !c.sqlEnabled():
		return c.sqlRefusal()
	case !c.admin():
		return "only an administrator may change the config"
	case c.e.opts.Config.SQL != nil && c.e.opts.Config.SQL.Save != nil && !*c.e.opts.Config.SQL.Save:
		return `saving queries from the app is off on this server (the config's "sql": {"save": false})`
	case c.e.opts.AuthToken != "" && !c.authed:
		return "only a caller with the server's token may change its config"
	}
	return ""
}

// Bounds on what a saved query holds (a config file is read whole by every
// host on every change).
const (
	maxQueryTitle       = 200
	maxQueryDescription = 2000
	maxQuerySQL         = 100_000
)

// queryName says whether name may be a query saved from the app: it is the
// query's address (/q/NAME), so letters, digits, _, . and - (not first), 64
// characters at most. (By hand: regexp is not in the core, for its size.)
func queryName(name string) bool {
	n := 0
	for _, r := range name {
		n++
		switch {
		case n > 64:
			return false
		case unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_':
		case n > 1 && (r == '.' || r == '-'):
		default:
			return false
		}
	}
	return n > 0
}

// saveQuery checks a query for saving as name and edits the config's text
// to hold it; it answers the new text, or why not (nothing written).
// replace: an existing query of that name may be overwritten.
func (c *ctx) saveQuery(name string, q *config.Query, replace bool) ([]byte, *outcome) {
	if o := c.configRefused(); o != nil {
		return nil, o
	}
	q.Title, q.Description = strings.TrimSpace(q.Title), strings.TrimSpace(q.Description)
	switch {
	case !queryName(name):
		return nil, failed(422, "a query's name is 1 to 64 letters, digits, _, . or - (it is part of its address, /q/NAME), beginning with a letter, digit or _")
	case c.storedQuery(name) != nil && !replace:
		return nil, failed(409, "a query named "+name+" exists already: tick Replace to overwrite it")
	case utf8.RuneCountInString(q.Title) > maxQueryTitle:
		return nil, failed(422, "a query's title is at most 200 characters")
	case utf8.RuneCountInString(q.Description) > maxQueryDescription:
		return nil, failed(422, "a query's description is at most 2000 characters")
	case len(q.SQL) > maxQuerySQL:
		return nil, failed(422, "a query's SQL is at most 100000 bytes")
	case strings.TrimSpace(q.SQL) == "":
		return nil, failed(422, "there is no SQL to save")
	}
	st, err := readsql.Parse(q.SQL)
	if err != nil {
		return nil, failed(422, err.Error())
	}
	for p := range q.Params {
		if !slices.Contains(st.Params, p) {
			delete(q.Params, p) // a default for no parameter of the statement: nothing to keep
		}
	}
	if len(q.Params) == 0 {
		q.Params = nil
	}
	// It must compile for the caller now (a query that an ALTER breaks
	// later says so on its page; one broken from the start is refused).
	values := map[string]any{}
	for k, v := range q.Params {
		values[k] = v
	}
	if _, o := c.inspectRead(st, st.Args(values)); o != nil {
		return nil, failed(422, o.msg)
	}
	return c.editConfig(name, q)
}

// deleteQuery takes a stored query out of the config's text.
func (c *ctx) deleteQuery(name string) ([]byte, *outcome) {
	if o := c.configRefused(); o != nil {
		return nil, o
	}
	return c.editConfig(name, nil)
}

// configRefused: the caller may not change the config, or the host asked
// again because it could not write the change.
func (c *ctx) configRefused() *outcome {
	if why := c.configWriter(); why != "" {
		return failed(403, why)
	}
	if e := c.req.ConfigError; e != nil {
		status := e.Status
		if status != 409 {
			status = 500
		}
		return failed(status, "nothing was saved: "+e.Message)
	}
	return nil
}

// editConfig is the config's text with query name set to q (nil: out),
// checked to be a config the core would take.
func (c *ctx) editConfig(name string, q *config.Query) ([]byte, *outcome) {
	text, err := config.SetQuery(c.e.opts.ConfigText, name, q)
	if err != nil {
		return nil, failed(409, "the config file cannot be edited from here: "+err.Error())
	}
	if _, err := config.Parse(text); err != nil {
		return nil, failed(422, err.Error())
	}
	return text, nil
}

// withConfig is an answer that the host sends once it wrote text as the
// config (protocol.ResponseHead.ConfigText).
func withConfig(r *protocol.Response, text []byte) *protocol.Response {
	s := string(text)
	r.ConfigText = &s
	return r
}

// saveQueryForm answers POST /sql/save: the SQL page's form, saved as a
// stored query; on success to its page, else the SQL page again with what
// was typed and why it was not saved.
func (c *ctx) saveQueryForm() *protocol.Response {
	if !c.sqlEnabled() {
		return c.sqlOff()
	}
	if why := c.configWriter(); why != "" {
		return c.fail(403, why)
	}
	form, resp := c.formBody()
	if resp != nil {
		return resp
	}
	name := strings.TrimSpace(form.Get("save-name"))
	q := &config.Query{SQL: form.Get("sql"), Title: form.Get("save-title"), Description: form.Get("save-description"),
		Public: form.Get("save-public") != "", Params: map[string]string{}}
	values := map[string]any{}
	if st, err := readsql.Parse(q.SQL); err == nil {
		for _, p := range st.Params {
			v := form.Get(p)
			values[p] = v
			if v != "" {
				q.Params[p] = v
			}
		}
	}
	replace := form.Get("save-replace") != ""
	if old := c.storedQuery(name); old != nil && replace {
		q.Chart = old.Chart // the form does not show the chart: a replace keeps it
	}
	save := render.ReadSave{Name: name, Title: q.Title, Description: q.Description, Public: q.Public, Replace: replace}
	text, o := c.saveQuery(name, q, replace)
	if o == nil {
		return withConfig(c.redirect(c.e.opts.BasePath+"/q/"+url.PathEscape(name)), text)
	}
	save.Error = o.msg
	d := c.sqlData(form.Get("sql"))
	d.Save = c.saveForm(&save)
	if strings.TrimSpace(d.SQL) != "" {
		api := c.e.opts.BasePath + "/api/sql"
		c.fillRead(&d, d.SQL, values, nil, api, api+".csv")
	}
	return html(o.status, render.ReadPage(&d))
}

// saveForm is the SQL page's "Save as a query" for a caller who may write
// the config (nil for others).
func (c *ctx) saveForm(s *render.ReadSave) *render.ReadSave {
	if c.configWriter() != "" {
		return nil
	}
	if s == nil {
		s = &render.ReadSave{}
	}
	s.Action = c.e.opts.BasePath + "/sql/save"
	s.Guarded = c.e.opts.AuthToken != ""
	return s
}

// deleteQueryForm answers POST /q/{query}/delete: the query is taken out
// of the config, then to the index.
func (c *ctx) deleteQueryForm(name string) *protocol.Response {
	text, o := c.deleteQuery(name)
	if o != nil {
		return c.fail(o.status, o.msg)
	}
	return withConfig(c.redirect(c.e.opts.BasePath+"/"), text)
}

// apiQueryRoute answers /api/queries/{name}: GET and POST run a stored
// query the caller may run; PUT saves one (created or replaced), DELETE
// takes one out.
func (c *ctx) apiQueryRoute(name string) *protocol.Response {
	switch m := c.req.Method; {
	case m == "PUT":
		return c.apiSaveQuery(name)
	case m == "DELETE":
		if !c.runnable(name) {
			return c.fail(404, "no such query: "+name)
		}
		text, o := c.deleteQuery(name)
		if o != nil {
			return c.answer(o)
		}
		return withConfig(c.jsonAnswer(200, "deleted", name), text)
	case !c.get() && m != "POST":
		return c.methodNotAllowed("GET, POST, PUT, DELETE")
	case !c.runnable(name):
		return c.fail(404, "no such query: "+name)
	}
	return c.apiQuery(name, false)
}

// runnable: a stored query the caller may run ({query} in a route).
func (c *ctx) runnable(name string) bool {
	q := c.storedQuery(name)
	return q != nil && (q.Public || c.authed)
}

// apiSaveQuery answers PUT /api/queries/NAME with a JSON body {"sql",
// "title", "description", "params", "chart", "public"}: 201 when new, 200
// when it replaced one.
func (c *ctx) apiSaveQuery(name string) *protocol.Response {
	if !c.sqlEnabled() {
		return c.sqlOff()
	}
	if why := c.configWriter(); why != "" {
		return c.fail(403, why)
	}
	var q config.Query
	if why := decodeStrict(c.req.Body, &q); why != "" {
		return c.fail(400, `the body must be JSON: {"sql": "SELECT ...", "title": "...", "description": "...", "params": {"NAME": "default"}, "chart": {"type": "bar"}, "public": false}: `+why)
	}
	if q.Chart != nil && !slices.Contains(config.ChartTypes, q.Chart.Type) {
		return c.fail(422, "chart type "+q.Chart.Type+" (want bar, line, pie or none)")
	}
	status := 201
	if c.storedQuery(name) != nil {
		status = 200
	}
	text, o := c.saveQuery(name, &q, true)
	if o != nil {
		return c.answer(o)
	}
	params := []any{}
	if st, err := readsql.Parse(q.SQL); err == nil {
		for _, p := range st.Params {
			params = append(params, p)
		}
	}
	entry := schema.NewObject().Set("name", name).Set("title", queryTitle(name, &q)).Set("params", params).
		Set("url", c.e.opts.BasePath+"/api/queries/"+url.PathEscape(name))
	return withConfig(c.jsonAnswer(status, "query", entry), text)
}
