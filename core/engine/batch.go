package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/model"
	"github.com/nakedhtmx/nakedhtmx/core/protocol"
	"github.com/nakedhtmx/nakedhtmx/core/schema"
	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// A batch (issue 18): POST /api/batch with {"operations": [{"op": "create",
// "table": T, "values": {...}}, {"op": "update", "table": T, "key": K,
// "values": {...}, "version": V}, {"op": "delete", "table": T, "key": K,
// "version": V}, ...]}. Each operation is the write its own route makes
// (the same rules, validation, row version check and change capture), all
// in one transaction: every one of them, or (the first that fails, by its
// index) none.

// maxBatch is the most operations one batch may carry.
const maxBatch = 1000

type batchOp struct {
	Op      string          `json:"op"`
	Table   string          `json:"table"`
	Key     json.RawMessage `json:"key"` // as the row's URL spells it ("1", "a%2Fb,2"), or a number
	Values  json.RawMessage `json:"values"`
	Version string          `json:"version"`
}

// planned is one operation of a batch, read and checked.
type planned struct {
	t      *model.Table
	key    []any
	values map[string]any
}

// batchWrite runs (or, in the scale-out mode, collects) one operation's write.
func (c *ctx) batchWrite(p planned, op batchOp) *outcome {
	switch op.Op {
	case "create":
		return c.insert(p.t, p.values, nil)
	case "update":
		return c.update(p.t, p.key, p.values, op.Version, nil)
	}
	return c.remove(p.t, p.key, op.Version)
}

// apiBatch answers POST /api/batch.
func (c *ctx) apiBatch() *protocol.Response {
	if c.req.Method != "POST" {
		return c.methodNotAllowed("POST")
	}
	if c.req.Command != "" {
		return c.batchCommandAnswer(func(r *commandResult) *protocol.Response {
			return c.jsonAnswer(200, "results", schema.RawJSON(r.Results))
		})
	}
	var body struct {
		Operations []batchOp `json:"operations"`
	}
	if why := decodeStrict(c.req.Body, &body); why != "" {
		return c.fail(400, `the body must be JSON: {"operations": [{"op": "create", "table": "T", "values": {...}}, {"op": "update", "table": "T", "key": "K", "values": {...}, "version": "V"}, {"op": "delete", "table": "T", "key": "K", "version": "V"}]}: `+why)
	}
	switch n := len(body.Operations); {
	case n == 0:
		return c.fail(400, "the batch has no operations")
	case n > maxBatch:
		return c.fail(413, "a batch takes at most "+strconv.Itoa(maxBatch)+" operations")
	}
	// Everything that can be known before writing is checked first: the
	// tables, the keys, the bodies, the rules.
	plan := make([]planned, len(body.Operations))
	fired := false
	for i, op := range body.Operations {
		fail := func(status int, msg string) *protocol.Response {
			return c.batchFailure(i, &outcome{status: status, msg: msg})
		}
		t := c.table(op.Table)
		if t == nil {
			return fail(404, "no such table: "+op.Table)
		}
		fired = fired || c.st.fired[t.Name]
		p := planned{t: t}
		write := map[string]string{"create": "insert", "update": "update", "delete": "delete"}[op.Op]
		if write == "" {
			return fail(400, "op must be create, update or delete")
		}
		if why := c.writable(t, write); why != "" {
			return fail(403, why)
		}
		if op.Op != "create" {
			raw := batchKey(op.Key)
			key, err := parseKey(t, raw)
			if err != nil || raw == "" {
				return fail(404, "no such row: the key "+strconv.Quote(raw)+" is not one of "+t.Name)
			}
			p.key = key
		}
		switch {
		case op.Op == "delete" && len(op.Values) > 0:
			return fail(400, "a delete carries no values")
		case op.Op != "delete":
			obj, msg := bodyObject(op.Values)
			if msg != "" {
				return fail(400, "values: "+msg)
			}
			p.values, _, _ = instance(t, obj)
		}
		plan[i] = p
	}
	if c.jetstream() {
		// Each write checked as here, collected, and sent as one command
		// that every node applies in one transaction.
		c.collecting = true
		for i, p := range plan {
			if out := c.batchWrite(p, body.Operations[i]); out.status >= 300 {
				c.collecting, c.collected = false, nil
				return c.batchFailure(i, out)
			}
		}
		if o := c.batchCommand(); o.status >= 300 {
			return c.answer(o)
		}
		return c.jsonAnswer(202, "command", c.command.ID, "status", "pending")
	}
	if fired {
		// Triggers of the user's may run: the whole batch goes where the
		// time limit can stop it (as one write does, write.go).
		sqldb.LaneWrites(c.e.db, true)
		defer sqldb.LaneWrites(c.e.db, false)
	}
	results := make([]any, len(plan))
	failedAt := -1
	var failure *outcome
	o := c.tx(nil, func() *outcome {
		c.inTx = true // each write below in a savepoint of this transaction
		defer func() { c.inTx = false }()
		for i, p := range plan {
			out := c.batchWrite(p, body.Operations[i])
			if out.status >= 300 {
				failedAt, failure = i, out
				return failed(out.status, out.msg)
			}
			r := schema.NewObject().Set("status", out.status)
			if out.status != 204 && out.row != nil {
				r.Set("row", c.answerObject(out.row)).Set("version", out.row.version())
			}
			results[i] = r
		}
		return &outcome{status: 200}
	})
	if failedAt >= 0 {
		return c.batchFailure(failedAt, failure)
	}
	if o.status != 200 {
		return c.answer(o)
	}
	return c.jsonAnswer(200, "results", results)
}

// batchCommandAnswer answers the host's asking again about a batch command
// (the scale-out mode): 202 while this node has not applied it, the failed
// write's answer with its index, or done's answer.
func (c *ctx) batchCommandAnswer(done func(r *commandResult) *protocol.Response) *protocol.Response {
	r, wait := c.appliedResult()
	switch {
	case wait != nil:
		return wait
	case r.Status >= 300:
		out := &outcome{status: r.Status, msg: r.Message, errs: r.Errors}
		if r.Index == nil {
			return c.answer(out)
		}
		return c.batchFailure(*r.Index, out)
	}
	return done(r)
}

// batchFailure answers a batch whose operation i failed as that write
// would have been answered alone, with "index": i added; nothing of the
// batch was written.
func (c *ctx) batchFailure(i int, o *outcome) *protocol.Response {
	res := c.answer(o)
	if len(res.Body) > 0 && res.Body[len(res.Body)-1] == '}' {
		extra := jsonBody(newObj("index", i))
		res.Body = append(append(res.Body[:len(res.Body)-1:len(res.Body)-1], ','), extra[1:]...)
	}
	return res
}

// batchKey is an operation's key as a URL path segment: a JSON string as it
// is, a number as its digits.
func batchKey(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if d := json.NewDecoder(bytes.NewReader(raw)); d.Decode(&n) == nil {
		return n.String()
	}
	return ""
}

// decodeStrict decodes a JSON body into v, no member it does not know
// taken; "" when it did, else why not in the API's words (a wrong type is
// named by its field, not by Go's own type names).
func decodeStrict(body []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return ""
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field + " has the wrong type"
	}
	return err.Error()
}
