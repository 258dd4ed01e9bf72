package protocol

import (
	"encoding/json"
	"testing"
)

var requestHeadCases = []string{
	`{"method":"GET","path":"/t/Track","query":"","headers":{"host":"localhost","accept":"text/html"}}`,
	` { "method" : "POST" , "path" : "/a\u00e9\ud83c\udf89" , "query" : "q=%3Cb%3E" , "headers" : { } , "continue" : "c1" , "tooLarge" : true , "command" : "id" } `,
	`{"method":"GET","tooLarge":false}`,
	`{}`,
	`{"method":"GET","schemaVersion":17}`,
	`{"method":"GET","remote":"127.0.0.1","remote":"x"}`,
	`{"path":"/","remote":"::1"}`,
	`{"method":"POST","probe":true}`,
	`{"schemaVersion":-3.0}`,
	`{"schemaVersion":null}`,
	`{"headers":{"a":"1","a":"2"}}`,
	"{\"path\":\"bad \xff utf8\"}",
	`{"Method":"GET"}`,
	`{"method":null}`,
	`{"headers":null}`,
	`{"method":"GET","method":"POST"}`,
	`{"method":1}`,
	`{"tooLarge":"yes"}`,
	`{"extra":[1,{"x":null}],"method":"GET"}`,
	`{"method":"GET"} x`,
	`{"method":"GET",}`,
	`[]`,
	``,
}

func TestRequestHeadMatchesEncodingJSON(t *testing.T) {
	for _, c := range requestHeadCases {
		matchesUnmarshal(t, []byte(c), requestHead)
	}
}

func FuzzRequestHead(f *testing.F) {
	seed(f, requestHeadCases)
	f.Fuzz(func(t *testing.T, b []byte) { matchesUnmarshal(t, b, requestHead) })
}

func sameResponseFrame(t *testing.T, h ResponseHead) {
	t.Helper()
	head, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	got := EncodeFrame(h, []byte("body"))
	gh, body, err := SplitFrame(got)
	if err != nil || string(gh) != string(head) || string(body) != "body" {
		t.Fatalf("%#v:\n got %q (%v)\nwant %s", h, got, err, head)
	}
}

func TestResponseHeadMatchesEncodingJSON(t *testing.T) {
	for _, h := range []ResponseHead{
		{},
		{Status: 200, Headers: [][2]string{{"content-type", "text/html; charset=utf-8"}, {"cache-control", "no-store"}}},
		{Status: -1, Headers: [][2]string{}},
		{Headers: [][2]string{{"x-<b>", "a&b \u2028 \"q\" \\ \x00 bad\xff"}}},
		{Continue: "c<1>"},
		{Status: 303, Continue: "c", Headers: [][2]string{{"location", "/t/%3Cx%3E"}}},
		{Status: 200, Subscribe: &Subscribe{Table: "t", Format: "page"}},
		{Status: 202, Command: &Command{ID: "x", Values: map[string]any{"<k>": 1.5}}},
	} {
		sameResponseFrame(t, h)
	}
}

func FuzzResponseHead(f *testing.F) {
	f.Add(200, "content-type", "text/html", "")
	f.Fuzz(func(t *testing.T, status int, k, v, cont string) {
		sameResponseFrame(t, ResponseHead{Status: status, Headers: [][2]string{{k, v}, {v, k}}, Continue: cont})
	})
}
