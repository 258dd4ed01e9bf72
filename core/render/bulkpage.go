package render

// BulkData is the page a list's bulk action shows: the confirmation before
// the selected rows are deleted, or why a bulk change was refused (nothing
// of it written).
type BulkData struct {
	Page
	Status           int
	Heading, Message string
	// Rows are the selected rows by label; Keys their keys, sent again.
	Rows                 []string
	Keys                 []string
	Action, Back, Column string
	Value                string
	// Confirm: the page asks before deleting (else it reports a refusal).
	Confirm bool
	DSID    string
}

// BulkPage ("bulk").
func BulkPage(d *BulkData) []byte {
	w := newWriter(2048 + 64*len(d.Rows))
	w.head(&d.Page)
	w.raw("\n<h1>")
	w.text(d.Heading)
	w.raw("</h1>\n")
	if d.Message != "" {
		if d.Confirm {
			w.raw(`<p>`)
		} else {
			w.raw(`<p class="notice error" role="alert">`)
		}
		w.text(d.Message)
		w.raw("</p>\n")
	}
	if len(d.Rows) > 0 {
		w.raw(`<ul class="bulk-rows">`)
		for _, r := range d.Rows {
			w.raw(`<li>`)
			w.text(r)
			w.raw(`</li>`)
		}
		w.raw("</ul>\n")
	}
	if d.Confirm {
		w.raw(`<form method="post" action="`)
		w.url(d.Action)
		w.raw(`" class="actions"><input type="hidden" name="action" value="delete"><input type="hidden" name="confirm" value="1"><input type="hidden" name="_dsid" value="`)
		w.text(d.DSID)
		w.raw(`"><input type="hidden" name="back" value="`)
		w.text(d.Back)
		w.raw(`">`)
		for _, k := range d.Keys {
			w.raw(`<input type="hidden" name="k" value="`)
			w.text(k)
			w.raw(`">`)
		}
		w.raw(`<button class="danger" type="submit">Delete `)
		w.int(int64(len(d.Keys)))
		if len(d.Keys) == 1 {
			w.raw(` row`)
		} else {
			w.raw(` rows`)
		}
		w.raw(`</button> `)
	} else {
		w.raw(`<p class="actions">`)
	}
	w.raw(`<a class="button" href="`)
	w.url(d.Back)
	w.raw(`">Back to the list</a>`)
	if d.Confirm {
		w.raw("</form>\n")
	} else {
		w.raw("</p>\n")
	}
	w.foot(&d.Page)
	return w.b
}
