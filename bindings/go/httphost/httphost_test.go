package httphost

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// handlerFunc adapts a function to Handler.
type handlerFunc func(*protocol.Request) (*protocol.Response, error)

func (f handlerFunc) Handle(r *protocol.Request) (*protocol.Response, error) { return f(r) }

// recorder remembers the requests it saw and answers like the core does for
// an oversized body: 413.
type recorder struct {
	mu   sync.Mutex
	seen []*protocol.Request
}

func (rec *recorder) Handle(r *protocol.Request) (*protocol.Response, error) {
	rec.mu.Lock()
	rec.seen = append(rec.seen, r)
	rec.mu.Unlock()
	if r.TooLarge {
		return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 413}, Body: []byte("too large")}, nil
	}
	return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200,
		Headers: [][2]string{{"content-type", "text/plain"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}}},
		Body: []byte("ok")}, nil
}

func (rec *recorder) last() *protocol.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.seen[len(rec.seen)-1]
}

func TestRequestMapping(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(&Adapter{Handler: rec, BasePath: "/admin"})
	defer srv.Close()

	tests := []struct {
		name, url string
		status    int
		path      string
		query     string
	}{
		{"escaped path kept raw", "/admin/t/a%2Fb%20c?sort=Title&x=%26", 200, "/t/a%2Fb%20c", "sort=Title&x=%26"},
		{"base path alone is the root", "/admin", 200, "/", ""},
		{"base path with slash", "/admin/", 200, "/", ""},
		{"outside the base path", "/other", 404, "", ""},
		{"prefix that is not a segment", "/administrator", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(rec.seen)
			res, err := http.Get(srv.URL + tt.url)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d", res.StatusCode)
			}
			if tt.status == 404 {
				if len(rec.seen) != n {
					t.Fatal("a request outside the base path reached the core")
				}
				return
			}
			got := rec.last()
			if got.Path != tt.path || got.Query != tt.query || got.Method != "GET" {
				t.Fatalf("got %+v", got.RequestHead)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(&Adapter{Handler: rec})
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/x", strings.NewReader("a=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Add("Accept", "text/html")
	req.Header.Add("Accept", "application/json")
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := rec.last()
	want := map[string]string{
		"content-type":   "application/x-www-form-urlencoded",
		"hx-request":     "true",
		"accept":         "text/html, application/json",
		"cookie":         "a=1; b=2",
		"content-length": "3",
		"host":           strings.TrimPrefix(srv.URL, "http://"),
	}
	for k, v := range want {
		if got.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, got.Headers[k], v)
		}
	}
	for k := range got.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header name %q not lower-case", k)
		}
	}
	if string(got.Body) != "a=1" {
		t.Errorf("body %q", got.Body)
	}
	// Response: repeated headers survive, in order.
	if c := res.Header.Values("Set-Cookie"); len(c) != 2 || c[0] != "a=1" || c[1] != "b=2" {
		t.Errorf("set-cookie %v", c)
	}
}

func TestBodyCap(t *testing.T) {
	const limit = 1000
	rec := &recorder{}
	srv := httptest.NewServer(&Adapter{Handler: rec, MaxBody: limit})
	defer srv.Close()

	tests := []struct {
		name     string
		size     int
		chunked  bool // no Content-Length: the cap must be found by reading
		tooLarge bool
	}{
		{"empty", 0, false, false},
		{"at the cap", limit, false, false},
		{"at the cap, chunked", limit, true, false},
		{"one over, declared", limit + 1, false, true},
		{"one over, chunked", limit + 1, true, true},
		{"far over, chunked", 50 * limit, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tt.size)
			var r io.Reader = bytes.NewReader(body)
			if tt.chunked {
				r = io.MultiReader(r) // hides the length from net/http
			}
			req, _ := http.NewRequest("POST", srv.URL+"/api/tables/t/rows", r)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := rec.last()
			if got.TooLarge != tt.tooLarge {
				t.Fatalf("tooLarge = %v", got.TooLarge)
			}
			if tt.tooLarge {
				if res.StatusCode != 413 || len(got.Body) != 0 {
					t.Fatalf("status %d, body sent to core %d bytes", res.StatusCode, len(got.Body))
				}
			} else if res.StatusCode != 200 || !bytes.Equal(got.Body, body) {
				t.Fatalf("status %d, body %d bytes", res.StatusCode, len(got.Body))
			}
		})
	}
}

func TestDefaultBodyCap(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(&Adapter{Handler: rec})
	defer srv.Close()
	body := io.MultiReader(bytes.NewReader(make([]byte, DefaultMaxBody)), strings.NewReader("!"))
	res, err := http.Post(srv.URL+"/x", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 || !rec.last().TooLarge {
		t.Fatalf("status %d", res.StatusCode)
	}
}

// streamer answers with three parts; the third is only produced once the
// test has received the first two, which proves the adapter flushes between
// parts instead of buffering the whole answer.
func TestContinuationStreaming(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	var heads []protocol.RequestHead
	h := handlerFunc(func(r *protocol.Request) (*protocol.Response, error) {
		mu.Lock()
		heads = append(heads, r.RequestHead)
		mu.Unlock()
		switch r.Continue {
		case "":
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200,
				Headers: [][2]string{{"content-type", "text/csv"}}, Continue: "p2"}, Body: []byte("a,b\n")}, nil
		case "p2":
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Continue: "p3"}, Body: []byte("1,2\n")}, nil
		case "p3":
			select {
			case <-gate:
			case <-time.After(5 * time.Second):
				return nil, errors.New("the client never saw the first parts")
			}
			return &protocol.Response{Body: []byte("3,4\n")}, nil
		}
		return nil, errors.New("unknown token " + r.Continue)
	})
	srv := httptest.NewServer(&Adapter{Handler: h})
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/tables/t/rows.csv?x=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/csv" {
		t.Fatalf("content-type %q", res.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(res.Body)
	for _, want := range []string{"a,b\n", "1,2\n"} {
		line, err := br.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
	close(gate)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "3,4\n" {
		t.Fatalf("rest %q %v", rest, err)
	}
	// Continuation calls repeat the request head with the token.
	if len(heads) != 3 || heads[1].Continue != "p2" || heads[2].Continue != "p3" ||
		heads[2].Path != "/api/tables/t/rows.csv" || heads[2].Query != "x=1" {
		t.Fatalf("heads %+v", heads)
	}
}

func TestContinuationFailureAbortsTheConnection(t *testing.T) {
	h := handlerFunc(func(r *protocol.Request) (*protocol.Response, error) {
		if r.Continue == "" {
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200, Continue: "more"}, Body: []byte("part")}, nil
		}
		return nil, errors.New("trap")
	})
	srv := httptest.NewUnstartedServer(&Adapter{Handler: h})
	srv.Start()
	defer srv.Close()
	res, err := http.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Fatal("a truncated answer read as complete")
	}
}

func TestHandlerError(t *testing.T) {
	var logged string
	h := handlerFunc(func(*protocol.Request) (*protocol.Response, error) { return nil, errors.New("wasm trap") })
	srv := httptest.NewServer(&Adapter{Handler: h, ErrorLog: func(f string, a ...any) { logged = f }})
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 500 || logged == "" {
		t.Fatalf("status %d, logged %q", res.StatusCode, logged)
	}
}

// A long answer yields between its parts (empty ones too, and before its
// head): a request that comes meanwhile is answered before the long one ends.
func TestPartsYield(t *testing.T) {
	var mu sync.Mutex // one core at a time, as the hosts have it
	parts := 0
	h := handlerFunc(func(r *protocol.Request) (*protocol.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		if r.Path == "/short" {
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 200}, Body: []byte("short")}, nil
		}
		time.Sleep(3 * time.Millisecond) // a window's work
		parts++
		switch {
		case parts < 60:
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Continue: "again"}}, nil // yielding, no head yet
		case parts < 120:
			res := &protocol.Response{ResponseHead: protocol.ResponseHead{Continue: "again"}}
			if parts == 60 {
				res.Status = 200
			}
			return res, nil // empty parts
		}
		return &protocol.Response{Body: []byte("done")}, nil
	})
	srv := httptest.NewServer(&Adapter{Handler: h})
	defer srv.Close()
	long := make(chan time.Time)
	go func() {
		res, err := http.Get(srv.URL + "/long")
		if err == nil {
			io.ReadAll(res.Body)
			res.Body.Close()
		}
		long <- time.Now()
	}()
	// One while it yields before its head (the first 180 ms), one among its empty parts.
	for _, wait := range []time.Duration{60 * time.Millisecond, 190 * time.Millisecond} {
		time.Sleep(wait)
		res, err := http.Get(srv.URL + "/short")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		select {
		case <-long:
			t.Fatalf("the long answer ended before a request sent meanwhile was answered")
		default:
		}
	}
	<-long
}

func TestCollect(t *testing.T) {
	h := handlerFunc(func(r *protocol.Request) (*protocol.Response, error) {
		switch r.Continue {
		case "":
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Status: 201, Continue: "1"}, Body: []byte("a")}, nil
		case "1":
			return &protocol.Response{ResponseHead: protocol.ResponseHead{Continue: "2"}, Body: []byte("b")}, nil
		}
		return &protocol.Response{Body: []byte("c")}, nil
	})
	res, err := Collect(h, &protocol.Request{RequestHead: protocol.RequestHead{Method: "GET", Path: "/", Headers: map[string]string{"host": "localhost"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 201 || string(res.Body) != "abc" || res.Continue != "" {
		t.Fatalf("got %+v %q", res.ResponseHead, res.Body)
	}
}

// A body that trickles is cut off after the read timeout, and the core is
// never asked; the connection's later answers are not cut.
func TestBodyReadTimeout(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(&Adapter{Handler: rec, BodyReadTimeout: 100 * time.Millisecond})
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	started := time.Now()
	fmt.Fprintf(conn, "POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabcd")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 408")) || time.Since(started) > 4*time.Second {
		t.Fatalf("after %v: %q", time.Since(started), answer)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) != 0 {
		t.Fatalf("the core was asked: %+v", rec.seen)
	}
}
