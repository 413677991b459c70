package config

import "math"

// Floors on tokens.hmac_secret, checked by Validate. They refuse obvious
// mistakes (a password, a word or pattern repeated to reach the length), not
// prove randomness: generate the secret, e.g. with 'openssl rand -base64 48'.
const (
	// minSecretBytes is 256 bits (RFC 8725 §3.5: HS256 keys as long as the
	// hash).
	minSecretBytes = 32
	// minSecretDistinct is the fewest different byte values a secret may
	// have, whatever its length.
	minSecretDistinct = 12
	// minSecretBits is the least len × log2(distinct byte values) a secret
	// may have: the most entropy a string of that length over that many
	// symbols could hold. At 32 bytes it asks for 16 different values; a
	// hex-encoded 32-byte secret (64 characters) passes easily.
	minSecretBits = 128
)

// weakSecret returns why secret is too weak to sign tokens with, or "" when
// it passes the floors. The reason never quotes the secret.
func weakSecret(secret string) string {
	n := len(secret)
	if n < minSecretBytes {
		return "must be at least 32 bytes (256 bits) of random data"
	}
	if p := period(secret); p <= n/2 {
		return "is a short pattern repeated, not random data"
	}
	var seen [256]bool
	distinct := 0
	for i := 0; i < n; i++ {
		if !seen[secret[i]] {
			seen[secret[i]] = true
			distinct++
		}
	}
	if distinct < minSecretDistinct || float64(n)*math.Log2(float64(distinct)) < minSecretBits {
		return "uses too few different characters for its length to be random data"
	}
	return ""
}

// period returns the smallest p such that s is s[:p] repeated (the last
// repetition possibly cut short): len(s) when s does not repeat.
func period(s string) int {
	// Knuth-Morris-Pratt failure function: the longest proper border of s
	// gives its smallest period.
	fail := make([]int, len(s)+1)
	fail[0] = -1
	k := -1
	for i := 0; i < len(s); i++ {
		for k >= 0 && s[k] != s[i] {
			k = fail[k]
		}
		k++
		fail[i+1] = k
	}
	return len(s) - fail[len(s)]
}
