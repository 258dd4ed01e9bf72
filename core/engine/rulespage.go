package engine

// The rules page (/rules): an administrator edits the config's row rules
// from the app. Each table's rules are checked as a config load checks
// them (parsed, then against the table's columns) before a byte of the
// config file changes; the host writes the new text where it read it
// (protocol.ResponseHead.ConfigText) and applies it at once.

import (
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/config"
	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/render"
	"github.com/nakedhtmx/nakedhtmx/core/rules"
)

// rulesWriter says why the caller may not edit the rules, or "".
func (c *ctx) rulesWriter() string {
	switch {
	case !c.admin():
		return "only an administrator edits the rules"
	case !c.e.opts.ConfigWritable:
		return "this server cannot change its config: it was given no config file to write (--config)"
	}
	return ""
}

// rulesPage answers GET /rules: every table with its rules, in forms.
func (c *ctx) rulesPage(msg string, status int, typed map[string]map[string]string) *protocol.Response {
	if !c.admin() {
		return c.fail(403, "only an administrator edits the rules")
	}
	d := render.RulesData{Page: c.page("Rules", link{Text: "Users", Href: c.e.opts.BasePath + "/users"}, link{Text: "Rules"}),
		Message: msg, Error: status >= 400, Ops: rules.Ops, ReadOnly: c.rulesWriter()}
	for _, t := range c.st.vis.Tables {
		e := render.RulesTable{Name: t.Name, Label: c.label(t), Action: c.e.opts.BasePath + "/rules/" + EncodeComponent(t.Name)}
		tc := c.e.opts.Config.Table(t.Name)
		for _, op := range rules.Ops {
			v := tc.Rules[op]
			if typed[t.Name] != nil {
				v = typed[t.Name][op]
			}
			e.Rules = append(e.Rules, v)
		}
		if tr := c.st.rules[t.Name]; tr != nil {
			e.Broken = tr.Broken
		}
		d.Tables = append(d.Tables, e)
	}
	if status == 0 {
		status = 200
	}
	return html(status, render.RulesPage(&d))
}

// rulesForm answers POST /rules/TABLE: its rules as typed (an empty field:
// no rule), saved into the config when each is one the table can hold.
func (c *ctx) rulesForm(t *model.Table) *protocol.Response {
	if why := c.rulesWriter(); why != "" {
		return c.fail(403, why)
	}
	form, bad := c.formBody()
	if bad != nil {
		return bad
	}
	typed := map[string]string{}
	for _, op := range rules.Ops {
		if v := strings.TrimSpace(form.Get(op)); v != "" {
			typed[op] = v
		}
	}
	again := func(status int, msg string) *protocol.Response {
		return c.rulesPage(msg, status, map[string]map[string]string{t.Name: typed})
	}
	if e := c.req.ConfigError; e != nil {
		return again(500, "nothing was saved: "+e.Message)
	}
	var v any
	if len(typed) > 0 {
		v = typed
	}
	text, err := config.SetAt(c.e.opts.ConfigText, []string{"tables", t.Name, "rules"}, v)
	if err != nil {
		return again(409, "the config file cannot be edited from here: "+err.Error())
	}
	cfg, err := config.Parse(text)
	if err != nil {
		return again(422, err.Error())
	}
	if tr := checkRules(c.st.db, cfg)[t.Name]; tr != nil && tr.Broken != "" {
		return again(422, tr.Broken)
	}
	return withConfig(c.rulesPage("Saved the rules of "+t.Name+".", 200, map[string]map[string]string{t.Name: typed}), text)
}
