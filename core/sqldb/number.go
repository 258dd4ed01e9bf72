package sqldb

import (
	"encoding/json"
	"fmt"
	"math"
)

// FormatNumber formats numbers exactly as encoding/json does, so that HTML, CSV,
// JSON and row versions agree on every host (a REAL 2.0 reads back as the
// integer 2 through the JS hosts, and both print "2").
func FormatNumber(v any) string {
	switch x := v.(type) {
	case int64:
		return fmt.Sprint(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		b, _ := json.Marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}
