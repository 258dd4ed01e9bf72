package engine

import (
	"bytes"
	"errors"
	"io"
	"mime/quotedprintable"
	"net/url"
	"strings"

	"github.com/nakedhtmx/nakedhtmx/core/mediatype"
)

// parseMultipart reads a multipart/form-data body (RFC 7578) into its
// fields' values, in order. Parts that carry a file, or no name, are left
// out: no column takes a file.
//
// It stands in for mime/multipart, whose Reader brought net/textproto and, by
// it, net into core.wasm (120 KB, 28 KB gzipped) to stream what is here a body
// already in memory. It accepts and refuses what that Reader did, edge cases
// included (TestMultipartMatchesMIME and FuzzMultipart hold it to that):
// a preamble and an epilogue are skipped; the line breaks are CRLF, or LF
// when the first boundary line ends in a bare LF; a boundary line may end in
// spaces and tabs; a boundary that is not followed by "--", a space, a tab or
// a line break is part of the data; header lines may be folded; the body
// must end with the closing boundary.
func parseMultipart(body []byte, boundary string) (url.Values, error) {
	return parseMultipartFiles(body, boundary, nil)
}

// formFile is a file a form uploaded: its name as the browser gave it, and
// its bytes (aliasing the body).
type formFile struct {
	Name string
	Data []byte
}

// parseMultipartFiles is parseMultipart that also keeps, in files (when not
// nil), the first file of each field name.
func parseMultipartFiles(body []byte, boundary string, files map[string]formFile) (url.Values, error) {
	if boundary == "" {
		return nil, errMultipart
	}
	dash := "--" + boundary
	nl := "\r\n"
	out := url.Values{}
	parts := 0
	expectPart := false // a part ended: the next line must be a boundary
	for pos := 0; ; {
		line := body[pos:]
		eol := bytes.IndexByte(line, '\n')
		if eol >= 0 {
			line = line[:eol+1]
		}
		// mime/multipart read these lines through a 4 KiB buffer, and refused
		// one that did not fit.
		if len(line) > 4096 || eol < 0 && len(line) == 4096 {
			return nil, errMultipart
		}
		if eol < 0 {
			if isFinalBoundary(line, dash, nl) {
				return out, nil
			}
			return nil, errMultipart // no closing boundary
		}
		pos += len(line)
		if rest, ok := afterBoundary(line, dash); ok {
			if parts == 0 && string(rest) == "\n" {
				nl = "\n"
			}
			if string(rest) == nl {
				parts++
				next, err := readPart(body, pos, dash, nl, out, files)
				if err == io.EOF {
					return out, nil // mime/multipart took headers cut short by the end of the body for the end of the form
				}
				if err != nil {
					return nil, err
				}
				pos, expectPart = next, false
				continue
			}
		}
		switch {
		case isFinalBoundary(line, dash, nl):
			return out, nil
		case expectPart:
			return nil, errMultipart
		case parts == 0: // the preamble
		case string(line) == nl:
			expectPart = true
		default:
			return nil, errMultipart
		}
	}
}

var errMultipart = errors.New("malformed multipart body")

// afterBoundary is what follows "--boundary" on a line, spaces and tabs
// skipped.
func afterBoundary(line []byte, dash string) ([]byte, bool) {
	if !bytes.HasPrefix(line, []byte(dash)) {
		return nil, false
	}
	return bytes.TrimLeft(line[len(dash):], " \t"), true
}

func isFinalBoundary(line []byte, dash, nl string) bool {
	rest, ok := afterBoundary(line, dash+"--")
	return ok && (len(rest) == 0 || string(rest) == nl)
}

// readPart reads the part whose headers start at pos, adds its value to out
// when it is a field, and returns where the part's data ends; io.EOF when
// the body ends before the headers do.
func readPart(body []byte, pos int, dash, nl string, out url.Values, files map[string]formFile) (int, error) {
	name, filename, qp, pos, err := readPartHeaders(body, pos)
	if err != nil {
		return 0, err
	}
	end, err := partEnd(body, pos, dash, nl+dash)
	if err != nil {
		return 0, err
	}
	data := body[pos:end]
	if qp {
		// Content-Transfer-Encoding is deprecated for forms (RFC 7578, 4.7),
		// but mime/multipart decoded quoted-printable, so this does too.
		if data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data))); err != nil {
			return 0, errMultipart
		}
	}
	switch {
	case name == "":
	case filename == "":
		out.Add(name, string(data))
	case files != nil:
		if _, ok := files[name]; !ok {
			files[name] = formFile{Name: filename, Data: data}
		}
	}
	return end, nil
}

// partEnd finds where a part's data ends: before the line break and
// boundary that close it (or at pos, when the part has no data and not even
// the line break before its boundary).
func partEnd(body []byte, pos int, dash, nlDash string) (int, error) {
	from := pos
	if bytes.HasPrefix(body[pos:], []byte(dash)) {
		if closesPart(body[pos:], len(dash)) {
			return pos, nil
		}
		from += len(dash)
	}
	for {
		i := bytes.Index(body[from:], []byte(nlDash))
		if i < 0 {
			return 0, errMultipart // the body ends inside the part
		}
		if closesPart(body[from+i:], len(nlDash)) {
			return from + i, nil
		}
		from += i + len(nlDash)
	}
}

// closesPart reports whether the boundary that b starts with (n bytes) is
// one: followed by the end of the body, white space, a line break or "--".
func closesPart(b []byte, n int) bool {
	if len(b) == n {
		return true
	}
	switch b[n] {
	case ' ', '\t', '\r', '\n':
		return true
	case '-':
		return len(b) > n+1 && b[n+1] == '-'
	}
	return false
}

// Header limits of net/textproto, which read the part headers before.
const (
	maxPartHeaders     = 10000
	maxPartHeaderBytes = 10<<20 - 400
)

// readPartHeaders reads a part's header lines up to the empty line that ends
// them, as net/textproto did: a line that starts with a space or tab
// continues the one before; a name is a token (one holding a space is kept
// but matches nothing); a value holds no control character but tab. It
// returns the field name, whether the part is a file, whether its data is
// quoted-printable, and where the data starts; io.EOF when the body ends
// before the empty line.
func readPartHeaders(body []byte, pos int) (name, filename string, qp bool, _ int, _ error) {
	if pos < len(body) && (body[pos] == ' ' || body[pos] == '\t') {
		return "", "", false, 0, errMultipart
	}
	var disposition, encoding *string
	budget, count := maxPartHeaderBytes, 0
	seen := map[string]bool{}
	for {
		line, next, ok := headerLine(body, pos)
		if !ok {
			return "", "", false, 0, io.EOF
		}
		pos = next
		if len(line) == 0 {
			break
		}
		if bytes.IndexByte(line, ':') < 0 {
			return "", "", false, 0, errMultipart
		}
		kv := string(trimSpaceTab(line))
		for pos < len(body) && (body[pos] == ' ' || body[pos] == '\t') { // folded
			for pos < len(body) && (body[pos] == ' ' || body[pos] == '\t') {
				pos++
			}
			more, next, ok := headerLine(body, pos)
			if !ok {
				break
			}
			kv += " " + string(trimSpaceTab(more))
			pos = next
		}
		key, value, _ := strings.Cut(kv, ":")
		canonical, ok := headerKey(key)
		if !ok {
			return "", "", false, 0, errMultipart
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				return "", "", false, 0, errMultipart
			}
		}
		if count++; count > maxPartHeaders {
			return "", "", false, 0, errMultipart
		}
		value = strings.TrimLeft(value, " \t")
		if !seen[strings.ToLower(key)] {
			seen[strings.ToLower(key)] = true
			budget -= len(key) + 200
		}
		if budget -= len(value); budget < 0 {
			return "", "", false, 0, errMultipart
		}
		switch {
		case canonical && disposition == nil && strings.EqualFold(key, "Content-Disposition"):
			disposition = &value
		case canonical && encoding == nil && strings.EqualFold(key, "Content-Transfer-Encoding"):
			encoding = &value
		}
	}
	if disposition != nil {
		if kind, params, err := mediatype.Parse(*disposition); err == nil {
			if kind == "form-data" {
				name = params["name"]
			}
			filename = params["filename"]
		}
	}
	qp = encoding != nil && strings.EqualFold(*encoding, "quoted-printable")
	return name, filename, qp, pos, nil
}

// headerLine is the line at pos without its line break (LF or CRLF), and
// where the next starts; not ok at the end of the body. A last line without
// a line break still counts.
func headerLine(body []byte, pos int) (line []byte, next int, ok bool) {
	if pos >= len(body) {
		return nil, pos, false
	}
	line = body[pos:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, next = line[:i], pos+i+1
		line = bytes.TrimSuffix(line, []byte("\r"))
	} else {
		next = len(body)
	}
	return line, next, true
}

// headerKey checks a header name: a token, or a token with spaces (which
// net/textproto kept as it was, so that it matched no header we read).
func headerKey(k string) (canonical, ok bool) {
	if k == "" {
		return false, false
	}
	canonical = true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		case c == ' ':
			canonical = false
		default:
			return false, false
		}
	}
	return canonical, true
}

func trimSpaceTab(b []byte) []byte { return bytes.Trim(b, " \t") }
