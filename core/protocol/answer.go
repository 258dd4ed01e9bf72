package protocol

import (
	"errors"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

// Connection is a Go host's connection as its `sql` import needs it
// (bindings/go/sqlite, bindings/go/postgres).
type Connection interface {
	// Caller runs SQL a caller sent (PROTOCOL.md, "Caller SQL").
	Caller(sql string, g sqldb.Guard) error
	// Script runs several statements without parameters or rows.
	Script(sql string) error
	// Statement runs one statement: what it did, and its rows.
	Statement(sql string, args []any) (sqldb.Result, *sqldb.Rows, error)
}

// HandleSQL is the body of a Go host's `sql` import: it decodes the
// SQLRequests of one message (binary or JSON), runs them on c in order
// until one fails, and encodes that failure, or the last result, or every
// kept one (FlagKeep) with it (binary, or JSON for an error). It never
// fails: problems are reported inside the result, as the core expects.
func HandleSQL(in []byte, c Connection) []byte {
	reqs, err := DecodeSQLRequests(in)
	if err != nil {
		return encodeResult(&SQLResult{Error: "bad SQL request: " + err.Error(), Code: "SQLITE_ERROR"})
	}
	var kept [][]byte // the results of requests flagged FlagKeep, encoded
	for i := range reqs {
		res := answer(c, &reqs[i])
		if res.Error != "" || i == len(reqs)-1 && kept == nil {
			return encodeResult(&res)
		}
		if reqs[i].Keep || i == len(reqs)-1 {
			kept = append(kept, encodeResult(&res))
		}
	}
	return AppendResults(nil, kept)
}

// encodeResult is one result's message: binary, or JSON for an error.
func encodeResult(res *SQLResult) []byte {
	out, err := AppendSQLResultBinary(nil, res)
	if err != nil {
		out, _ = AppendSQLResult(nil, &SQLResult{Error: "cannot encode SQL result: " + err.Error(), Code: "SQLITE_ERROR"})
	}
	return out
}

func answer(c Connection, req *SQLRequest) SQLResult {
	switch {
	case req.File != nil:
		fs, ok := c.(sqldb.Files)
		if !ok {
			return SQLResult{Error: "this host keeps no files", Code: "SQLITE_MISUSE"}
		}
		return AnswerFile(fs, req.File)
	case req.Caller != nil:
		if err := c.Caller(req.SQL, *req.Caller); err != nil {
			return errorResult(err)
		}
		return SQLResult{}
	case req.Read != nil:
		// A caller's read (PROTOCOL.md, "Caller reads"): a SQLite store's
		// connection is a sqldb.Reader; Postgres runs them as the core's
		// own statements and is never sent one.
		rd, ok := c.(sqldb.Reader)
		if !ok {
			return SQLResult{Error: "this store takes no caller reads", Code: "SQLITE_MISUSE"}
		}
		rows, err := rd.Read(req.SQL, Unwrap(req.Params), *req.Read)
		if err != nil {
			return errorResult(err)
		}
		return rowsResult(sqldb.Result{}, rows)
	case req.Script:
		if len(req.Params) > 0 {
			return SQLResult{Error: "a script takes no parameters", Code: "SQLITE_MISUSE"}
		}
		if err := c.Script(req.SQL); err != nil {
			return errorResult(err)
		}
		return SQLResult{}
	}
	res, rows, err := c.Statement(req.SQL, Unwrap(req.Params))
	if err != nil {
		return errorResult(err)
	}
	return rowsResult(res, rows)
}

// errorResult is err as an SQLResult: its message and its code name
// (SQLITE_ERROR when it has none).
func errorResult(err error) SQLResult {
	code := sqldb.Code(err)
	if code == "" {
		code = "SQLITE_ERROR"
	}
	return SQLResult{Error: err.Error(), Code: code}
}

// rowsResult is what one statement did and read, as an SQLResult.
func rowsResult(res sqldb.Result, rows *sqldb.Rows) SQLResult {
	out := SQLResult{Changes: res.Changes, LastInsertRowid: res.LastInsertID}
	if rows != nil && len(rows.Columns) > 0 {
		out.Columns = rows.Columns
		out.Rows = make([][]Value, len(rows.Values))
		for i, r := range rows.Values {
			out.Rows[i] = Values(r)
		}
	}
	return out
}

// AnswerFile runs a file request on fs (PROTOCOL.md, "Files"). The key is
// checked here as well as by fs: no other text ever reaches a path.
func AnswerFile(fs sqldb.Files, f *FileRequest) SQLResult {
	if !sqldb.FileKeyOK(f.Key) {
		return SQLResult{Error: "not a file key: " + strconv.Quote(f.Key), Code: "SQLITE_MISUSE"}
	}
	var err error
	switch f.Op {
	case "put":
		err = fs.PutFile(f.Key, f.Data)
	case "delete":
		err = fs.DeleteFile(f.Key)
	case "get":
		var b []byte
		if b, err = fs.GetFile(f.Key); err == nil {
			return SQLResult{Columns: []string{"data"}, Rows: [][]Value{{{V: b}}}}
		}
	default:
		return SQLResult{Error: "unknown file op " + strconv.Quote(f.Op), Code: "SQLITE_MISUSE"}
	}
	if errors.Is(err, sqldb.ErrNoFile) {
		return SQLResult{Error: "no such file", Code: "NOT_FOUND"}
	}
	if err != nil {
		return SQLResult{Error: err.Error(), Code: "SQLITE_IOERR"}
	}
	return SQLResult{}
}
