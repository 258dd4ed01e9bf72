package postgres

import (
	"encoding/json"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/store/sqlite/ddl"
)

// TestCheckText reads CHECK constraints as pg_get_constraintdef writes them
// (the forms were taken from Postgres 15) into what the JSON Schema gets.
func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		def, as, col, want string
	}{
		{`CHECK ((kind = ANY (ARRAY['tool'::text, 'toy'::text])))`, "", "kind", `{"Enum":["tool","toy"]}`},
		{`CHECK (((kind)::text = ANY ((ARRAY['a'::character varying, 'b''s'::character varying])::text[])))`, "", "kind", `{"Enum":["a","b's"]}`},
		{`CHECK ((n = ANY (ARRAY[1, 2, 3])))`, "", "n", `{"Enum":[1,2,3]}`},
		{`CHECK (("Odd name" = ANY (ARRAY['x'::text])))`, "", "Odd name", `{"Enum":["x"]}`},
		{`CHECK (((qty >= 0) AND (qty <= 1000)))`, "", "qty", `{"Maximum":1000,"Minimum":0}`},
		{`CHECK ((price >= (0)::numeric))`, "", "price", `{"Minimum":0}`},
		{`CHECK ((length(name) <= 20))`, "", "name", `{"MaxLength":20}`},
		{`CHECK ((VALUE >= 0))`, "value", "value", `{"Minimum":0}`},
	} {
		got := ddl.AnalyzeCheck(checkText(tc.def, tc.as))[tc.col]
		b, _ := json.Marshal(got)
		var m map[string]any // the bounds that are set
		json.Unmarshal(b, &m)
		for k, v := range m {
			if v == nil {
				delete(m, k)
			}
		}
		b, _ = json.Marshal(m)
		if string(b) != tc.want {
			t.Errorf("%s: got %s (from %q), want %s", tc.def, b, checkText(tc.def, tc.as), tc.want)
		}
	}
}
