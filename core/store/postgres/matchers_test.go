package postgres

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// The regexps the catalog and the read check used, before regexp left the
// core: the hand-written matchers answer as they did.
var (
	castRe      = regexp.MustCompile(`::(?:"(?:[^"]|"")+"|double precision|character varying|bit varying|(?:timestamp|time)(?:\(\d+\))? with(?:out)? time zone|[a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)?)(?:\(\d+(?:,\d+)?\))?(?:\[\])*`)
	anyRe       = regexp.MustCompile(`(?i) = ANY \((?:\(ARRAY\[([^\]]*)\]\)|ARRAY\[([^\]]*)\])\)`)
	parenNameRe = regexp.MustCompile(`(^|[^\w"])\(("(?:[^"]|"")+"|[a-zA-Z_][a-zA-Z0-9_]*)\)`)
	checkRe     = regexp.MustCompile(`(?is)^\s*CHECK\s*\((.*)\)\s*(?:NOT VALID)?\s*$`)
	valueRe     = regexp.MustCompile(`(?i)\bVALUE\b`)
	deniedRe    = regexp.MustCompile(`^(?:pg_read_file|pg_read_binary_file|pg_ls_\w*|pg_stat_file|lo_\w+|` +
		`query_to_xml\w*|cursor_to_xml\w*|table_to_xml\w*|schema_to_xml\w*|database_to_xml\w*|dblink\w*|` +
		`pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|pg_switch_wal|` +
		`pg_create_\w+|pg_drop_\w+|pg_replication_\w+|pg_logical_\w+|pg_notify|set_config|pg_advisory\w*|` +
		`pg_try_advisory\w*|pg_export_snapshot|pg_log_backend_memory_contexts|pg_stat_reset\w*|pg_backup_\w+|` +
		`pg_wal_replay_\w+|pg_current_logfile|pg_import_system_collations|pg_file_\w+|pg_sleep\w*|` +
		`nextval|setval)$`)
	callRe = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_$]*)"?\s*\(`)
)

func TestMatchersAsRegexps(t *testing.T) {
	inputs := []string{
		`CHECK ((price >= (0)::numeric))`, `CHECK (((name)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))`,
		`CHECK ((m = ANY (ARRAY['x'::text, 'y'::text]))) NOT VALID`, `CHECK ((VALUE >= 0))`, `check ( length((code)::text) <= 5 )`,
		`'x'::text`, `42`, `now()`, `'2024-01-01 00:00:00'::timestamp without time zone`, `(0)::double precision`, `'a'::"my type"`,
		`'{}'::integer[]`, `'1.5'::numeric(10,2)`, `'a'::public.mood`, `'t'::timestamp(3) with time zone`, `x::time(2)`,
		`CHECK (a) NOT VALID   `, `CHECK ()`, `CHECK (`, `  CHECK(x)  `, `CHECK (x) NOT VALIDX`,
		"pg_sleep", "pg_sleep_for", "lo_", "lo_import", "pg_ls_dir", "pg_create_", "nextval", "nextvals", "dblink_exec", "pg_file_write",
		`upper(x) || lower ( y ) || "f"(z) || 1abc(d) || a$b(e)`, `x(`, `(a)(b)`, `((a))`, `é(a)`, `"(a)"`, `f(a)`, ` (a)`,
	}
	r := rand.New(rand.NewSource(5))
	words := []string{"::", "text", "double precision", "character varying", "bit varying", "timestamp", "time", "(3)", " with", "out",
		" time zone", "(10,2)", "[]", "\"q\"", `""`, ".", "public", " = ANY (", "(ARRAY[", "ARRAY[", "'a'", ", ", "]", ")", "(", "VALUE", "value",
		"x", "_", " ", "CHECK ", "NOT VALID", "\n", "1", "$", "é", "pg_", "lo_", "sleep"}
	for i := 0; i < 100000; i++ {
		var b strings.Builder
		for j := r.Intn(10); j > 0; j-- {
			b.WriteString(words[r.Intn(len(words))])
		}
		inputs = append(inputs, b.String())
	}
	for _, s := range inputs {
		if got, want := stripCasts(s), castRe.ReplaceAllString(s, ""); got != want {
			t.Fatalf("stripCasts(%q) = %q, the regexp %q", s, got, want)
		}
		if got, want := unparenNames(s), parenNameRe.ReplaceAllString(s, "$1$2"); got != want {
			t.Fatalf("unparenNames(%q) = %q, the regexp %q", s, got, want)
		}
		if got, want := anyToIn(s), anyRe.ReplaceAllString(s, " IN ($1$2)"); got != want {
			t.Fatalf("anyToIn(%q) = %q, the regexp %q", s, got, want)
		}
		got, ok := checkExpr(s)
		if m := checkRe.FindStringSubmatch(s); (m != nil) != ok || ok && m[1] != got {
			t.Fatalf("checkExpr(%q) = %q %v, the regexp %q", s, got, ok, m)
		}
		if got, want := named(s, "value"), valueRe.ReplaceAllString(s, "value"); got != want {
			t.Fatalf("named(%q) = %q, the regexp %q", s, got, want)
		}
		low := strings.ToLower(s)
		if got, want := denied(low), deniedRe.MatchString(low); got != want {
			t.Fatalf("denied(%q) = %v, the regexp %v", low, got, want)
		}
		var want []string
		for _, m := range callRe.FindAllStringSubmatch(s, -1) {
			want = append(want, m[1])
		}
		if got := calls(s); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("calls(%q) = %q, the regexp %q", s, got, want)
		}
	}
}
