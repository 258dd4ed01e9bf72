package protocol

import (
	"encoding/json"
	"reflect"
	"testing"
)

var tickRequestCases = []string{
	`{"formats":["page","api"]}`,
	`{"formats":[]}`,
	`{"formats":null}`,
	`{}`,
	`{"formats":["page"],"schemaVersion":42}`,
	` { "schemaVersion" : -7 , "formats" : [ "a\"b" ] } `,
	`{"schemaVersion":1.5}`,
	`{"schemaVersion":99999999999999999999}`,
	`{"formats":["page"],"formats":["api"]}`,
	`{"formats":"page"}`,
	`{"other":1}`,
	`[]`,
	`{"formats":["\ud800"]}`,
	`{"formats":["page"]}x`,
}

// sameTickRequest: DecodeTickRequest agrees with json.Unmarshal, errors included.
func sameTickRequest(t *testing.T, b []byte) {
	t.Helper()
	var want TickRequest
	wantErr := json.Unmarshal(b, &want)
	got, err := DecodeTickRequest(b)
	if (err != nil) != (wantErr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("%q:\n got %#v (%v)\nwant %#v (%v)", b, got, err, want, wantErr)
	}
}

func TestTickRequestMatchesEncodingJSON(t *testing.T) {
	for _, c := range tickRequestCases {
		sameTickRequest(t, []byte(c))
	}
}

func FuzzTickRequest(f *testing.F) {
	for _, c := range tickRequestCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameTickRequest(t, b) })
}

func sameTickResult(t *testing.T, r TickResult) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendTickResult(nil, r); string(got) != string(want) {
		t.Fatalf("%#v:\n got %s\nwant %s", r, got, want)
	}
}

func TestTickResultMatchesEncodingJSON(t *testing.T) {
	for _, r := range []TickResult{
		{},
		{Messages: []Message{}},
		{Messages: []Message{{ID: 1, Table: "t", API: `{"id":1}`, Page: "<tr>&amp;</tr>"}}},
		{Messages: []Message{{ID: -1}, {ID: 1 << 62, Table: "a\u2028b\x00\xff\"\\", API: "", Page: "\t\n"}}},
	} {
		sameTickResult(t, r)
	}
}

func FuzzTickResult(f *testing.F) {
	f.Add(int64(1), "t", `{"a":"<b>"}`, "<tr>")
	f.Fuzz(func(t *testing.T, id int64, table, api, page string) {
		sameTickResult(t, TickResult{Messages: []Message{{ID: id, Table: table, API: api, Page: page}, {ID: id + 1, Page: table}}})
	})
}
