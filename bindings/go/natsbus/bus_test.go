package natsbus

import (
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/protocol"
)

// Any SQLite name becomes one subject token: nothing NATS treats specially
// (".", "*", ">", spaces) survives, and different names stay different.
func TestSubjectTokens(t *testing.T) {
	for _, tc := range []struct{ table, op, want string }{
		{"todos", "insert", "nakedhtmx.cmd.todos.insert"},
		{"order items", "update", "nakedhtmx.cmd.order~20items.update"},
		{"a.b", "delete", "nakedhtmx.cmd.a~2Eb.delete"},
		{"*>", "insert", "nakedhtmx.cmd.~2A~3E.insert"},
		{"~", "insert", "nakedhtmx.cmd.~7E.insert"},
		{"ünï", "insert", "nakedhtmx.cmd.~C3~BCn~C3~AF.insert"},
		{"", "insert", "nakedhtmx.cmd.~.insert"},
	} {
		if got := Subject(&protocol.Command{Table: tc.table, Op: tc.op}); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.table, got, tc.want)
		}
	}
	if protocol.Token("a b") == protocol.Token("a_b") || protocol.Token("a~20b") == protocol.Token("a b") {
		t.Error("two names share a token")
	}
}
