package engine

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// mimeForm is how forms were read before parseMultipart: mime/multipart,
// the reference it must agree with.
func mimeForm(body []byte, boundary string) (url.Values, bool) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	out := url.Values{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, false
		}
		if p.FormName() != "" && p.FileName() == "" {
			out.Add(p.FormName(), string(b))
		}
	}
}

func checkMultipart(t *testing.T, body []byte, boundary string) {
	t.Helper()
	got, err := parseMultipart(body, boundary)
	same := func(want url.Values, wantOK bool) bool {
		return (err == nil) == wantOK && (!wantOK || reflect.DeepEqual(got, want))
	}
	want, wantOK := mimeForm(body, boundary)
	if same(want, wantOK) {
		return
	}
	// mime/multipart reads through a 4096-byte buffer, and at exactly one
	// length a part's unterminated header line ends the form cleanly (io.EOF)
	// where one byte less or one more is "malformed MIME header line"
	// (testdata/fuzz/FuzzMultipart/a736d8d05687b99f). Where the reference
	// flips like that and both neighbours agree with each other and with
	// parseMultipart, the reference is at its buffer's edge, not the parser
	// wrong.
	if n := len(body); n > 4000 {
		shorter, shorterOK := mimeForm(body[:n-1], boundary)
		longer, longerOK := mimeForm(append(append([]byte(nil), body...), body[n-1]), boundary)
		if shorterOK == longerOK && reflect.DeepEqual(shorter, longer) && same(shorter, shorterOK) {
			return
		}
	}
	t.Fatalf("boundary %q, body %q:\n got  %v, %v\n want %v, ok %v", boundary, body, got, err, want, wantOK)
}

var multipartSeeds = []string{
	// What browsers send.
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nx\r\ny\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b--",
	"--b\r\ncontent-disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n--b\r\ncontent-disposition: form-data; name=\"n\"\r\n\r\nv\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsame\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nagain\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name*=utf-8''%C3%A9t%C3%A9\r\n\r\nsummer\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"q\\\"uote\"\r\n\r\n\xff\xfe\r\n--b--\r\n",
	// Preamble, epilogue, bare LF, white space after boundaries.
	"preamble\r\nmore\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\nepilogue",
	"--b\nContent-Disposition: form-data; name=\"a\"\n\n1\n--b\nContent-Disposition: form-data; name=\"c\"\n\n2\n--b--\n",
	"--b \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b-- \r\n",
	"--b--\n",
	"--b--",
	"",
	// The boundary inside the data, and data that ends without its line break.
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--bb\r\n--b-y\r\n--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n--b--",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--bz\r\n--b--",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n--b--",
	// Headers: folding, names with spaces, other headers, none, bad ones.
	"--b\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nX-Other: y\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"z\"\r\n\r\n1\r\n--b--\r\n",
	"--b\r\n\r\nno headers\r\n--b--\r\n",
	"--b\r\n Content-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nno colon\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nBad\x01: x\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nX: bad\x01value\r\n\r\n1\r\n--b--\r\n",
	"--b\r\n: empty name\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"; bad\r\n\r\n1\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\nx=3Dy=\r\nz\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad=ZZ\r\n--b--\r\n",
	// Malformed: no closing boundary, junk between parts, truncated headers.
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\njunk\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b x\r\n--b--\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n",
	"--b\r\nContent-Disposition: form-data; name=\"a\"",
	"no boundary at all",
	strings.Repeat("x", 5000) + "\r\n--b--\r\n",
}

func TestMultipartMatchesMIME(t *testing.T) {
	for _, s := range multipartSeeds {
		checkMultipart(t, []byte(s), "b")
	}
	checkMultipart(t, []byte(multipartSeeds[0]), "")
	checkMultipart(t, []byte(strings.ReplaceAll(multipartSeeds[0], "--b", "----WebKitFormBoundaryx7")), "--WebKitFormBoundaryx7")
}

func FuzzMultipart(f *testing.F) {
	for _, s := range multipartSeeds {
		f.Add([]byte(s), "b")
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if len(boundary) > 70 { // RFC 2046's longest; mime/multipart cannot find much longer ones in its buffer
			return
		}
		checkMultipart(t, body, boundary)
	})
}
