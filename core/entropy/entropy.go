// Package entropy reads random bytes from the host's cryptographic source:
// session tokens, salts, file keys, command ids.
//
// In the wasm core it asks WASI's random_get directly (every host of ours
// answers it from a CSPRNG: crypto.getRandomValues, crypto/rand under
// wazero), because crypto/rand links FIPS 140's DRBG, AES and GCM, about
// 40 KB of the core's 2 MiB gzipped budget, to read those same bytes.
// Elsewhere it is crypto/rand.
package entropy
