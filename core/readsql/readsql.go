// Package readsql is what a caller's read-only statement (the SQL page, a
// stored query) is by its text alone, the same on every store and host:
// one statement, beginning SELECT, WITH or VALUES, its :named parameters
// turned into the `?` every store binds, and the names it uses.
//
// The text is only the first wall. What the statement would really do is
// asked of the store, which compiles it without running it
// (store.Store.InspectRead), and the host runs it read-only (sqldb.Read).
// Where this scan and a store's own parser could disagree (Postgres's
// nested comments, E” strings), the scan errs towards seeing more
// statements, never fewer.
package readsql

import (
	"errors"
	"strings"
)

// Statement is one read a caller sent.
type Statement struct {
	// SQL is the text with each :name replaced by `?`.
	SQL string
	// Params are the :names, each once, in the order they first appear.
	Params []string
	// Bind names, for each `?` of SQL in order, the parameter it takes.
	Bind []string
	// Words are the identifiers the text names, lower case, each once
	// (keywords included: they are not told apart here).
	Words []string
	// Calls are the words followed by "(": the functions it may call
	// (and a few keywords, such as IN or VALUES), lower case, each once.
	Calls []string
}

// MaxParams bounds the :names one statement may declare.
const MaxParams = 100

// Parse reads a caller's statement, or says why it may not run.
func Parse(sql string) (*Statement, error) {
	s := &Statement{}
	var out strings.Builder
	seenWord := map[string]bool{}
	seenCall := map[string]bool{}
	seenParam := map[string]bool{}
	first := ""
	ended := false // a ";" was seen: only blanks and comments may follow
	cut := 0       // where the output ends when one was
	word := func(w string, call bool) {
		lw := strings.ToLower(w)
		if !seenWord[lw] {
			seenWord[lw] = true
			s.Words = append(s.Words, lw)
		}
		if call && !seenCall[lw] {
			seenCall[lw] = true
			s.Calls = append(s.Calls, lw)
		}
	}
	code := func() error {
		if ended {
			return errors.New("only one statement may run: remove what follows the ;")
		}
		return nil
	}
	n := len(sql)
	for i := 0; i < n; {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			out.WriteByte(c)
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = n - i
			}
			out.WriteString(sql[i : i+j])
			i += j
		case c == '/' && i+1 < n && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return nil, errors.New("a /* comment is not closed")
			}
			out.WriteString(sql[i : i+2+j+2])
			i += 2 + j + 2
		case c == ';':
			ended = true // not copied: the statement is run alone, or inside another
			cut = out.Len()
			i++
		default:
			if err := code(); err != nil {
				return nil, err
			}
			j, err := token(sql, i, s, &out, word, seenParam)
			if err != nil {
				return nil, err
			}
			if first == "" {
				first = strings.ToUpper(sql[i:j])
			}
			i = j
		}
	}
	switch first {
	case "SELECT", "WITH", "VALUES":
	case "":
		return nil, errors.New("the SQL is empty: write one SELECT statement")
	default:
		if len(first) > 20 {
			first = first[:20] + "..."
		}
		return nil, errors.New("only a read may run here: one SELECT, WITH or VALUES statement (this one begins " + first + ")")
	}
	if len(s.Params) > MaxParams {
		return nil, errors.New("a statement may take at most 100 :named parameters")
	}
	text := out.String()
	if ended {
		text = text[:cut] // what follows the ; is only blanks and comments: not copied
	}
	s.SQL = strings.TrimRight(text, " \t\r\n\f")
	return s, nil
}

// token copies the token at sql[i] to out (a :name as `?`) and returns
// where it ends.
func token(sql string, i int, s *Statement, out *strings.Builder, word func(string, bool), seen map[string]bool) (int, error) {
	n := len(sql)
	c := sql[i]
	switch {
	case (c == 'E' || c == 'e') && i+1 < n && sql[i+1] == '\'':
		// Postgres's E'...' takes backslash escapes. SQLite has no such
		// string (E'x' does not compile there), so reading it so is safe.
		j, err := quoted(sql, i+1, '\'', true)
		if err != nil {
			return 0, err
		}
		out.WriteString(sql[i:j])
		return j, nil
	case c == '\'':
		j, err := quoted(sql, i, '\'', false)
		if err != nil {
			return 0, err
		}
		out.WriteString(sql[i:j])
		return j, nil
	case c == '"' || c == '`' || c == '[':
		close := c
		if c == '[' {
			close = ']'
		}
		j, err := quoted(sql, i, close, false)
		if err != nil {
			return 0, err
		}
		name := sql[i+1 : j-1]
		if close != ']' {
			name = strings.ReplaceAll(name, string(close)+string(close), string(close))
		}
		word(name, followedByParen(sql, j))
		out.WriteString(sql[i:j])
		return j, nil
	case c == '$':
		// $tag$ ... $tag$ (Postgres), or a parameter spelled $name or $1.
		j := i + 1
		for j < n && isIdent(sql[j]) {
			j++
		}
		if j < n && sql[j] == '$' && (j == i+1 || !isDigit(sql[i+1])) {
			tag := sql[i : j+1]
			k := strings.Index(sql[j+1:], tag)
			if k < 0 {
				return 0, errors.New("a " + tag + " string is not closed")
			}
			end := j + 1 + k + len(tag)
			out.WriteString(sql[i:end])
			return end, nil
		}
		return 0, errors.New("parameters are written :name here (" + sql[i:j] + " is not one)")
	case c == '?' || c == '@':
		return 0, errors.New("parameters are written :name here (" + string(c) + " is not one)")
	case c == ':':
		if i+1 < n && sql[i+1] == ':' { // Postgres's cast, x::int
			out.WriteString("::")
			return i + 2, nil
		}
		j := i + 1
		for j < n && isIdent(sql[j]) {
			j++
		}
		if j == i+1 || isDigit(sql[i+1]) {
			out.WriteByte(':')
			return i + 1, nil // a slice a[1:2], or SQLite's own syntax error
		}
		name := sql[i+1 : j]
		if !seen[name] {
			seen[name] = true
			s.Params = append(s.Params, name)
		}
		s.Bind = append(s.Bind, name)
		out.WriteByte('?')
		return j, nil
	case isIdent(c) && !isDigit(c):
		j := i
		for j < n && isIdent(sql[j]) {
			j++
		}
		word(sql[i:j], followedByParen(sql, j))
		out.WriteString(sql[i:j])
		return j, nil
	}
	// A number, an operator or punctuation: one byte at a time (a number's
	// digits never make a word, since words start with a letter).
	j := i + 1
	if isDigit(c) {
		for j < n && isIdent(sql[j]) {
			j++
		}
	}
	out.WriteString(sql[i:j])
	return j, nil
}

// quoted returns where the quoted text at sql[i] (opened by sql[i]) ends:
// a doubled closing quote is one quote; backslash escapes one byte.
func quoted(sql string, i int, close byte, backslash bool) (int, error) {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case backslash && sql[j] == '\\':
			j++
		case sql[j] == close:
			if close != ']' && j+1 < len(sql) && sql[j+1] == close {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	return 0, errors.New("a quote (" + string(sql[i]) + ") is not closed")
}

func followedByParen(sql string, j int) bool {
	for j < len(sql) && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' || sql[j] == '\r') {
		j++
	}
	return j < len(sql) && sql[j] == '('
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdent: a byte of an unquoted name (letters, digits, _, and every
// byte of a multi-byte UTF-8 character, as SQLite and Postgres take them).
func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c >= 0x80
}

// Args binds values to a statement's `?`s from the parameters by name: a
// missing one is NULL.
func (s *Statement) Args(values map[string]any) []any {
	args := make([]any, len(s.Bind))
	for i, name := range s.Bind {
		args[i] = values[name]
	}
	return args
}

// Uses says whether the statement names w (lower case).
func (s *Statement) Uses(w string) bool {
	for _, x := range s.Words {
		if x == w {
			return true
		}
	}
	return false
}
