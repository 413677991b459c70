package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds on the hashes this package reads. A stored hash is input like any
// other: a tampered or corrupted row must not make Verify allocate or
// compute without limit, so every parameter is checked against these bounds
// before any hashing starts.
const (
	// maxMemory (256 MiB) is 13 times DefaultParams' memory and four times
	// RFC 9106's second recommended option, leaving room to raise the
	// parameters for years, and it is the most memory one hash can take.
	maxMemory = 256 << 10 // KiB
	// maxTime bounds the passes over memory: at maxMemory, 16 passes take
	// a few seconds, far beyond any interactive setting.
	maxTime = 16
	// maxThreads bounds the lanes, each run by its own goroutine.
	maxThreads = 16

	// Salt and key lengths in bytes. RFC 9106 requires a salt of at least
	// 8 bytes and recommends 16; keys shorter than 16 bytes are too easy
	// to collide with.
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64

	// maxEncodedLen is longer than any string the bounds above allow
	// (about 210 bytes), so longer input is rejected before it is parsed.
	maxEncodedLen = 256
)

// b64 is the encoding of salts and keys in PHC strings: standard base64
// without padding, as the reference implementation writes it. Strict makes
// every string canonical; newlines, which the decoder would skip, are
// rejected by decodeB64 beforehand.
var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed argon2id hash: "$argon2id$v=19$m=M,t=T,p=P$SALT$KEY".
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// String returns h in PHC string format.
func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// weakerThan reports whether h should be replaced by a hash made with
// params (and this package's salt and key lengths). A field counts as weaker
// when it is smaller than the current one: less memory, fewer passes, a
// shorter salt or a shorter key. More of any of them is kept as it is.
// Threads are not compared: the parallelism changes how the work is spread,
// not how much an attacker must do. The version is not compared either,
// because parsePHC accepts only version 19 (0x13), the one x/crypto
// implements.
func (h phc) weakerThan(params Params) bool {
	return h.params.Memory < params.Memory ||
		h.params.Time < params.Time ||
		len(h.salt) < saltLen ||
		len(h.key) < keyLen
}

// parsePHC parses an argon2id PHC string strictly: the exact field layout
// the reference implementation writes, decimal numbers without sign or
// leading zeros, canonical unpadded base64, and every value within this
// package's bounds. Any other input yields an error wrapping
// ErrMalformedHash; parsePHC never panics.
func parsePHC(s string) (phc, error) {
	if len(s) > maxEncodedLen {
		return phc{}, malformed("%d bytes long", len(s))
	}
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" {
		return phc{}, malformed("not of the form $argon2id$v=19$m=M,t=T,p=P$SALT$KEY")
	}
	if fields[1] != "argon2id" {
		return phc{}, malformed("algorithm %q, want argon2id", fields[1])
	}
	version, ok := field(fields[2], "v=")
	if !ok {
		return phc{}, malformed("bad version field %q", fields[2])
	}
	if version != argon2.Version {
		return phc{}, malformed("unsupported argon2 version %d", version)
	}

	var h phc
	ps := strings.Split(fields[3], ",")
	if len(ps) != 3 {
		return phc{}, malformed("bad parameter field %q", fields[3])
	}
	m, okM := field(ps[0], "m=")
	t, okT := field(ps[1], "t=")
	p, okP := field(ps[2], "p=")
	if !okM || !okT || !okP {
		return phc{}, malformed("bad parameter field %q", fields[3])
	}
	if p < 1 || p > maxThreads {
		return phc{}, malformed("p=%d outside [1, %d]", p, maxThreads)
	}
	if t < 1 || t > maxTime {
		return phc{}, malformed("t=%d outside [1, %d]", t, maxTime)
	}
	// RFC 9106 §3.1: memory must be at least 8 KiB per lane.
	if m < 8*p || m > maxMemory {
		return phc{}, malformed("m=%d outside [%d, %d]", m, 8*p, maxMemory)
	}
	h.params = Params{Memory: m, Time: t, Threads: uint8(p)}

	var err error
	if h.salt, err = decodeB64(fields[4], minSaltLen, maxSaltLen); err != nil {
		return phc{}, malformed("salt: %v", err)
	}
	if h.key, err = decodeB64(fields[5], minKeyLen, maxKeyLen); err != nil {
		return phc{}, malformed("key: %v", err)
	}
	return h, nil
}

// field parses s as name followed by a decimal uint32 with no sign and no
// leading zeros.
func field(s, name string) (uint32, bool) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok || digits == "" || len(digits) > 10 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// decodeB64 decodes canonical unpadded standard base64 of between lo and
// hi bytes.
func decodeB64(s string, lo, hi int) ([]byte, error) {
	if n := b64.DecodedLen(len(s)); n < lo || n > hi {
		return nil, fmt.Errorf("%d bytes, want %d to %d", n, lo, hi)
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("contains a newline")
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// malformed returns an error wrapping ErrMalformedHash with detail for logs.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
}
