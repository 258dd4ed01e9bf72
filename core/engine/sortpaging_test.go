package engine_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/engine"
)

// TestSortedPagesKeepNulls: a list sorted by a column that holds NULLs,
// paged a few rows at a time either way, shows every row once, on each
// store (Postgres sorts NULL last ascending, SQLite first: the cursor must
// follow the store's order, or the NULL rows were never reached).
func TestSortedPagesKeepNulls(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *engine.Engine{"sqlite": hiddenEngine, "postgres": hiddenEnginePostgres} {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			for i := 0; i < 6; i++ {
				for _, pet := range []string{"null", fmt.Sprintf(`"p%d"`, i%3)} {
					id := 100 + len(petIDs(t, e, "", ""))
					if r := do(t, e, "POST", "/api/tables/pets/rows", fmt.Sprintf(`{"id": %d, "pet": %s}`, id, pet)); r.Status != 201 {
						t.Fatalf("%d %s", r.Status, r.Body)
					}
				}
			}
			all := petIDs(t, e, "", "")
			if len(all) != 13 {
				t.Fatalf("%d pets", len(all))
			}
			for _, desc := range []string{"0", "1"} {
				got := petIDs(t, e, "pet", desc)
				sort.Ints(got)
				if fmt.Sprint(got) != fmt.Sprint(all) {
					t.Errorf("sorted by pet, desc=%s, 3 a page: %v, want %v", desc, got, all)
				}
			}
		})
	}
}

// petIDs pages through pets (sorted by sortBy when set), three rows a page.
func petIDs(t *testing.T, e *engine.Engine, sortBy, desc string) []int {
	t.Helper()
	var ids []int
	after := ""
	for page := 0; page < 100; page++ {
		q := "limit=3"
		if sortBy != "" {
			q += "&sort=" + sortBy + "&desc=" + desc
		}
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		r := do(t, e, "GET", "/api/tables/pets/rows?"+q, "")
		var p struct {
			Rows []struct{ ID int } `json:"rows"`
			Next *string            `json:"next"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		for _, row := range p.Rows {
			ids = append(ids, row.ID)
		}
		if p.Next == nil {
			return ids
		}
		after = *p.Next
	}
	t.Fatal("the pages never end")
	return nil
}
