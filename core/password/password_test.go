package password

import (
	"strings"
	"testing"
)

// Small costs keep the tests quick; the format and checks are the same.
var quick = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndCheck(t *testing.T) {
	h := Hash("correct horse", quick)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("format: %s", h)
	}
	if !Check("correct horse", h) {
		t.Fatal("the right password was refused")
	}
	for _, wrong := range []string{"", "correct horse ", "Correct horse", "correct hors"} {
		if Check(wrong, h) {
			t.Fatalf("%q passed", wrong)
		}
	}
	if Hash("correct horse", quick) == h {
		t.Fatal("two hashes of one password share a salt")
	}
	if !Stale(h) || Stale(Hash("x", Default)) {
		t.Fatal("Stale: weaker parameters are stale, Default is not")
	}
}

func TestHostileHashes(t *testing.T) {
	good := Hash("pw", quick)
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"", "pw", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5], // 4 GiB
		"$argon2id$v=19$m=64,t=1000000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
	} {
		if Check("pw", h) {
			t.Fatalf("%q passed", h)
		}
	}
	if Check(strings.Repeat("x", MaxLen+1), Hash(strings.Repeat("x", MaxLen+1), quick)) {
		t.Fatal("a password over MaxLen passed")
	}
}
