// Package password checks new passwords against authgate's password policy
// and stores and verifies them as argon2id hashes.
//
// Hashes follow the OWASP Password Storage Cheat Sheet and RFC 9106: argon2id
// with at least 19 MiB of memory, 2 passes and 1 lane ([DefaultParams]), a
// 16-byte salt from crypto/rand and a 32-byte key, stored as a PHC string
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64, as the reference
// implementation writes them. Passwords are normalised to Unicode NFKC
// before they are measured or hashed (NIST SP 800-63B-4 §3.1.1.2), so a
// password typed on different devices verifies the same way.
//
// Each hash holds its memory cost (about 19 MiB by default) for tens of
// milliseconds, so a [Hasher] runs a bounded number of hashes at once and
// makes the rest wait a bounded time, or fail at once with [ErrBusy] when
// too many are already waiting. A flood of logins therefore costs at most
// maxConcurrent hashes' worth of memory, and the callers beyond that get a
// fast answer they can turn into 503 Service Unavailable.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism: the number of lanes, each
	// computed by its own goroutine.
	Threads uint8
}

// DefaultParams returns the OWASP Password Storage Cheat Sheet's minimum
// argon2id configuration, m=19456 (19 MiB), t=2, p=1. [NewHasher] rejects
// anything weaker.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1}
}

// Lengths of the salts and keys this package generates, in bytes.
const (
	saltLen = 16
	keyLen  = 32
)

// queueFactor is how many callers, per hashing slot, may wait for a slot.
// Beyond that they get ErrBusy at once rather than after maxWait, since
// they would be unlikely to get a slot in time. A waiter holds no hashing
// memory (the slots bound that), so the queue may be deep: with 4 slots
// and a hash taking tens of milliseconds, 256 waiters are served well
// within a few seconds' maxWait, and a burst of 100 concurrent logins is
// queued rather than refused.
const queueFactor = 64

// A Hasher hashes and verifies passwords with fixed argon2id parameters,
// running at most a fixed number of hashes at once. It is safe for
// concurrent use by multiple goroutines.
type Hasher struct {
	params  Params
	maxWait time.Duration

	// slots holds one element per running hash.
	slots chan struct{}
	// waiting counts callers waiting for a slot, at most maxWaiting.
	waiting    atomic.Int64
	maxWaiting int64

	// dummy is the PHC string VerifyDummy verifies against.
	dummy string

	// derive is argon2.IDKey; tests replace it to observe the hashing.
	derive func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher that hashes with params, runs at most
// maxConcurrent hashes at once, and lets a caller wait at most maxWait for
// its turn. At most 64×maxConcurrent callers wait at a time; a caller that
// finds no free slot and the queue full, or waits maxWait in vain, gets
// ErrBusy. A maxWait of zero means never wait.
//
// Peak memory for hashing is about maxConcurrent × params.Memory KiB (more
// while verifying stored hashes made with more memory, up to 256 MiB each).
//
// NewHasher rejects params weaker than [DefaultParams] in any field, or
// beyond the bounds this package accepts in stored hashes (256 MiB of
// memory, 16 passes, 16 lanes). It computes one hash before returning: the
// hash [Hasher.VerifyDummy] verifies against.
func NewHasher(params Params, maxConcurrent int, maxWait time.Duration) (*Hasher, error) {
	floor := DefaultParams()
	switch {
	case params.Memory < floor.Memory || params.Memory > maxMemory:
		return nil, fmt.Errorf("password: memory %d KiB outside [%d, %d]", params.Memory, floor.Memory, maxMemory)
	case params.Time < floor.Time || params.Time > maxTime:
		return nil, fmt.Errorf("password: time %d outside [%d, %d]", params.Time, floor.Time, maxTime)
	case params.Threads < floor.Threads || params.Threads > maxThreads:
		return nil, fmt.Errorf("password: threads %d outside [%d, %d]", params.Threads, floor.Threads, maxThreads)
	case maxConcurrent < 1:
		return nil, fmt.Errorf("password: maxConcurrent %d, want at least 1", maxConcurrent)
	case maxWait < 0:
		return nil, fmt.Errorf("password: negative maxWait %v", maxWait)
	}
	h := &Hasher{
		params:     params,
		maxWait:    maxWait,
		slots:      make(chan struct{}, maxConcurrent),
		maxWaiting: queueFactor * int64(maxConcurrent),
		derive:     argon2.IDKey,
	}
	// The dummy hash is of a random secret nobody knows, so in practice
	// nothing matches it; VerifyDummy ignores the result all the same.
	secret := make([]byte, keyLen)
	rand.Read(secret)
	h.dummy = h.newPHC(secret).String()
	return h, nil
}

// newPHC hashes password, already normalised, with a fresh salt and h's
// parameters.
func (h *Hasher) newPHC(password []byte) phc {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails: crypto/rand crashes the program instead
	p := h.params
	return phc{
		params: p,
		salt:   salt,
		key:    h.derive(password, salt, p.Time, p.Memory, p.Threads, keyLen),
	}
}

// Hash returns the PHC string of password, normalised to NFKC, hashed with
// h's parameters and a fresh random salt.
//
// Hash does not apply a [Policy]; callers setting a password call
// [Policy.Check] first. It does reject a password that is not valid UTF-8,
// contains NUL (ErrInvalid), or is longer than MaxBytes (ErrTooLong).
//
// Hash waits for a hashing slot as NewHasher describes, returning ErrBusy
// or, if ctx is done first, ctx.Err(). Once hashing has begun it runs to
// the end.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	normal, err := normalize(password)
	if err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.newPHC([]byte(normal)).String(), nil
}

// Verify reports whether password matches encoded, a PHC string made by
// [Hasher.Hash] or by another argon2id implementation with parameters
// within this package's bounds. The password is normalised to NFKC first,
// and the derived key is compared in constant time.
//
// When the password matches, needsRehash reports whether encoded is weaker
// than what h would make now, and the caller should then store the result
// of h.Hash(ctx, password) in its place. Weaker means less memory, fewer
// passes, a salt shorter than 16 bytes or a key shorter than 32 bytes; a
// stronger field is kept, and the number of lanes does not count. A version
// other than 19 (0x13) is not reported as needing a rehash but rejected, as
// x/crypto/argon2 cannot verify it.
//
// Verify returns an error wrapping ErrMalformedHash, without hashing, if
// encoded is not a PHC string it accepts (including one whose parameters
// exceed 256 MiB, 16 passes or 16 lanes); ErrInvalid or ErrTooLong for a
// password Hash would refuse; and ErrBusy or ctx.Err() as Hash does.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (match, needsRehash bool, err error) {
	normal, err := normalize(password)
	if err != nil {
		return false, false, err
	}
	stored, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	key, err := h.rederive(ctx, normal, stored)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(key, stored.key) != 1 {
		return false, false, nil
	}
	return true, stored.weakerThan(h.params), nil
}

// VerifyDummy does the work of a failed [Hasher.Verify] without a stored
// hash, for a login naming an account that does not exist: it verifies
// password against a fixed hash, made once by NewHasher with h's
// parameters, and discards the result. Answering such a login only after
// VerifyDummy makes it cost the same as a wrong password for a real account,
// so response times do not reveal which accounts exist (as long as the real
// account's hash has h's parameters, which rehashing on login ensures).
//
// VerifyDummy returns nil when it has done that work, and otherwise the
// errors Verify returns for password: ErrInvalid, ErrTooLong, ErrBusy or
// ctx.Err(). It never reports a match.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

// rederive derives the key for password, already normalised, with the
// salt, parameters and key length of stored, in a hashing slot.
func (h *Hasher) rederive(ctx context.Context, password string, stored phc) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	p := stored.params
	return h.derive([]byte(password), stored.salt, p.Time, p.Memory, p.Threads, uint32(len(stored.key))), nil
}

// acquire takes a hashing slot, waiting at most h.maxWait, and only if fewer
// than h.maxWaiting callers are waiting already. It returns ErrBusy if it
// gets none, or ctx.Err() if ctx is done first.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.maxWait <= 0 {
		return ErrBusy
	}
	if h.waiting.Add(1) > h.maxWaiting {
		h.waiting.Add(-1)
		return ErrBusy
	}
	defer h.waiting.Add(-1)
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		if err := ctx.Err(); err != nil {
			h.release()
			return err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return ErrBusy
	}
}

// release gives back a slot taken by acquire.
func (h *Hasher) release() { <-h.slots }
