package sqldb

import (
	"fmt"
	"math"
	"strconv"

	"github.com/nakedhtmx/nakedhtmx/core/jsonw"
)

// FormatNumber formats numbers exactly as encoding/json does, so that HTML, CSV,
// JSON and row versions agree on every host (a REAL 2.0 reads back as the
// integer 2 through the JS hosts, and both print "2").
func FormatNumber(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		// JSON's spelling of a number (what encoding/json writes), without
		// its reflection: this runs for every cell of every page.
		b, ok := jsonw.Float(make([]byte, 0, 24), x)
		if !ok {
			// SQLite holds infinities (1e999 stores one) but no NaN:
			// spelled as CONTRACT says, in pages, forms and CSV alike.
			switch {
			case math.IsInf(x, 1):
				return "Infinity"
			case math.IsInf(x, -1):
				return "-Infinity"
			}
			return ""
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}
