package hosts

import "testing"

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in, name, port string
		ok             bool
	}{
		{"localhost", "localhost", "", true},
		{"LocalHost:8080", "localhost", "8080", true},
		{"127.0.0.1:1", "127.0.0.1", "1", true},
		{"[::1]", "[::1]", "", true},
		{"[::1]:9", "[::1]", "9", true},
		{"[2001:DB8::1]:80", "[2001:db8::1]", "80", true},
		{"admin.example.com", "admin.example.com", "", true},
		{"my_host", "my_host", "", true},
		{"", "", "", false},
		{"localhost.", "", "", false},
		{".localhost", "", "", false},
		{"::1", "", "", false},
		{"[::1", "", "", false},
		{"[]", "", "", false},
		{"[::1]x", "", "", false},
		{"[::1]:", "", "", false},
		{"[zz::1]", "", "", false},
		{"localhost:", "", "", false},
		{"localhost:123456", "", "", false},
		{"localhost:80:80", "", "", false},
		{"localhost:8a", "", "", false},
		{"localhost, evil.example", "", "", false},
		{"evil example", "", "", false},
		{"http://localhost", "", "", false},
		{"localhost/x", "", "", false},
		{"user@localhost", "", "", false},
		{"ünïcode.example", "", "", false},
	} {
		name, port, ok := Split(c.in)
		if name != c.name || port != c.port || ok != c.ok {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q, %v", c.in, name, port, ok, c.name, c.port, c.ok)
		}
		if (Check(c.in) == "") != c.ok {
			t.Errorf("Check(%q) = %q", c.in, Check(c.in))
		}
	}
}
