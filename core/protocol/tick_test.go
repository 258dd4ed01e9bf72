package protocol

import (
	"encoding/json"
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
	`{"formats":["page"],"viewers":["{\"id\":1}",""]}`,
	`{"viewers":[]}`,
	`{"viewers":null}`,
}

func TestTickRequestMatchesEncodingJSON(t *testing.T) {
	for _, c := range tickRequestCases {
		matchesUnmarshal(t, []byte(c), DecodeTickRequest)
	}
}

func FuzzTickRequest(f *testing.F) {
	seed(f, tickRequestCases)
	f.Fuzz(func(t *testing.T, b []byte) { matchesUnmarshal(t, b, DecodeTickRequest) })
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
		{Messages: []Message{{ID: 2, Table: "t", API: "a", Page: "p", Held: true}, {ID: 3, Held: true, Only: []string{`{"id":1}`, "\u2028"},
			Gone: []string{"x"}, GoneAPI: "ga", GonePage: "<gp>"}, {ID: 4, Only: []string{}, Gone: nil}}},
	} {
		sameTickResult(t, r)
	}
}

func FuzzTickResult(f *testing.F) {
	f.Add(int64(1), "t", `{"a":"<b>"}`, "<tr>")
	f.Fuzz(func(t *testing.T, id int64, table, api, page string) {
		sameTickResult(t, TickResult{Messages: []Message{{ID: id, Table: table, API: api, Page: page}, {ID: id + 1, Page: table},
			{ID: id, Held: true, Only: []string{api, table}, Gone: []string{page}, GoneAPI: api, GonePage: page}}})
	})
}
