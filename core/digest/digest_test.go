package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// The plain SHA-256 gives FIPS 180-4's answers, and crypto/sha256's for
// every length around the block and padding edges, whole and streamed in
// pieces.
func TestPlainSHA256(t *testing.T) {
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	} {
		if got := plainSum256([]byte(in)); hex.EncodeToString(got[:]) != want {
			t.Errorf("%q: %x", in, got)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if plainSum256(b) != sha256.Sum256(b) {
			t.Fatalf("length %d differs", n)
		}
		d := newPlain()
		for rest := b; len(rest) > 0; {
			k := min(len(rest), 1+int(r.Uint32()%70))
			d.Write(rest[:k])
			rest = rest[k:]
		}
		if d.sum() != sha256.Sum256(b) {
			t.Fatalf("length %d streamed differs", n)
		}
	}
}

func TestPlainEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		eq   bool
	}{{"", "", true}, {"a", "a", true}, {"a", "b", false}, {"ab", "a", false}, {"token", "tokem", false}} {
		if plainEqual([]byte(c.a), []byte(c.b)) != c.eq || Equal([]byte(c.a), []byte(c.b)) != c.eq {
			t.Errorf("%q %q", c.a, c.b)
		}
	}
}
