package engine_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

func TestBulk(t *testing.T) {
	e, _, _ := liveDBWith(t, importSchema+`
		INSERT INTO items (id, name, qty, kind) VALUES (2, 'two', 1, 2), (3, 'three', 1, 2), (4, 'four', 1, 1);
		CREATE TABLE holds (id INTEGER PRIMARY KEY, item INTEGER REFERENCES items(id));
		INSERT INTO holds VALUES (1, 4);`, engine.Options{})
	post := func(kv ...string) (int, string, string) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		r := do(t, e, "POST", "/t/items/bulk", v.Encode(), "content-type", formCT, "accept", "text/html")
		return r.Status, r.Header("location"), string(r.Body)
	}
	list := string(do(t, e, "GET", "/t/items", "", "accept", "text/html").Body)
	if !strings.Contains(list, `<input type="checkbox" form="bulk" name="k" value="2"`) || !strings.Contains(list, `<form id="bulk"`) {
		t.Fatalf("the list offers no selection:\n%s", list)
	}
	// Set a column on two rows.
	if st, loc, body := post("k", "2", "k", "3", "action", "set", "column", "qty", "value", "8", "back", "/t/items?sort=name"); st != 303 || loc != "/t/items?sort=name" {
		t.Fatalf("set: %d %s %s", st, loc, body)
	}
	if d := itemsDump(t, e); !strings.Contains(d, `"name":"two","qty":8`) || !strings.Contains(d, `"name":"three","qty":8`) || !strings.Contains(d, `"name":"old","qty":3`) {
		t.Fatalf("after set:\n%s", d)
	}
	before := itemsDump(t, e)
	// Refused, none written: a bad value; a column that may not be set; a
	// row still referenced among those deleted; a foreign back address.
	if st, _, body := post("k", "2", "k", "3", "action", "set", "column", "qty", "value", "-1"); st != 422 || !strings.Contains(body, "Nothing was changed") {
		t.Fatalf("a bad value: %d %s", st, body)
	}
	if st, _, _ := post("k", "2", "action", "set", "column", "id", "value", "9"); st != 422 {
		t.Fatalf("the key column: %d", st)
	}
	if st, _, body := post("k", "3", "k", "4", "action", "delete", "confirm", "1"); st != 409 || !strings.Contains(body, "four") {
		t.Fatalf("a referenced row: %d %s", st, body)
	}
	if d := itemsDump(t, e); d != before {
		t.Fatalf("a refused bulk change wrote:\n%s\n%s", before, d)
	}
	// Delete asks first, then deletes; back never leaves the list.
	st, _, body := post("k", "2", "k", "3", "action", "delete", "back", "https://evil.example/")
	if st != 200 || !strings.Contains(body, "Delete 2 rows of items?") || !strings.Contains(body, "<li>two</li>") || strings.Contains(body, "evil.example") {
		t.Fatalf("the confirmation: %d %s", st, body)
	}
	if st, loc, _ := post("k", "2", "k", "3", "action", "delete", "confirm", "1", "back", "//evil.example/t/items"); st != 303 || loc != "/t/items" {
		t.Fatalf("delete: %d %s", st, loc)
	}
	if d := itemsDump(t, e); strings.Contains(d, `"two"`) || strings.Contains(d, `"three"`) || !strings.Contains(d, `"four"`) {
		t.Fatalf("after delete:\n%s", d)
	}
	if st, _, _ := post("action", "delete"); st != 422 {
		t.Fatalf("nothing selected: %d", st)
	}
}
