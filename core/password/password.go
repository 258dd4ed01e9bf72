// Package password hashes sign-in passwords with argon2id (RFC 9106) and
// checks them. A hash is kept as a PHC string,
// "$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH", so its parameters travel with
// it: raising Default later leaves every stored hash checkable, and Stale
// says which ones to hash again at their next sign-in.
//
// Why argon2id with these parameters: OWASP's password storage cheat sheet
// names argon2id with m=19 MiB, t=2, p=1 as its first choice. In the wasm
// core one hash takes about 150 to 200 ms (scrypt at N=2^15, the
// equivalent, took twice that), once per sign-in and per password set.
package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/nakedhtmx/nakedhtmx/core/digest"
	"github.com/nakedhtmx/nakedhtmx/core/entropy"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// Default is what new hashes use.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Limits a stored hash may ask for: a hostile database file must not make
// a sign-in allocate gigabytes or loop for minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	maxThreads = 16
	saltLen    = 16
	keyLen     = 32
	// MaxLen bounds a password: argon2 takes any length, but a body of
	// megabytes would be hashed whole.
	MaxLen = 1024
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of pw under p with a fresh random salt.
func Hash(pw string, p Params) string {
	salt := make([]byte, saltLen)
	if err := entropy.Read(salt); err != nil {
		panic("no randomness for a salt: " + err.Error())
	}
	return format(p, salt, argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen))
}

func format(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ErrFormat: the stored text is no argon2id hash this package can check.
var ErrFormat = errors.New("not an argon2id hash")

// parse reads a PHC string.
func parse(h string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrFormat
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrFormat
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, ErrFormat
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, ErrFormat
		}
	}
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return p, nil, nil, ErrFormat
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrFormat
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrFormat
	}
	return p, salt, key, nil
}

// Check says whether pw is the password hashed in h, in time that does not
// depend on where the two differ.
func Check(pw, h string) bool {
	p, salt, key, err := parse(h)
	if err != nil || len(pw) > MaxLen {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return digest.Equal(got, key)
}

// Waste spends the time a Check takes without a hash to check: a sign-in
// for an email no user has must take as long as one with a wrong password,
// so timing does not tell which emails have users.
func Waste(pw string) {
	var salt [saltLen]byte
	argon2.IDKey([]byte(pw), salt[:], Default.Time, Default.Memory, Default.Threads, keyLen)
}

// Stale says whether h was made with weaker parameters than Default (or
// cannot be read): hash the password again when it is next known.
func Stale(h string) bool {
	p, _, _, err := parse(h)
	return err != nil || p.Memory < Default.Memory || p.Time < Default.Time
}
