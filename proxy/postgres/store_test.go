package postgres

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/accounts/storetest"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) accounts.Store {
		s, _ := openFresh(t, Options{})
		return s
	})
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testUser(name string) *accounts.User {
	return &accounts.User{ID: "id-" + name, Username: name, Email: name + "@example.com",
		PasswordHash: "$argon2id$x", Roles: []string{"user"}, CreatedAt: t0, UpdatedAt: t0}
}

func testFamily(id, userID, first string) *accounts.Family {
	return &accounts.Family{ID: id, UserID: userID, Current: hashOf(first),
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

// together runs fn(0) ... fn(n-1) on n goroutines released at once, and
// returns their errors by index.
func together(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// rotateTo is a decide that rotates to hashOf(next).
func rotateTo(next string) func(accounts.Family) (*accounts.Family, error) {
	return func(f accounts.Family) (*accounts.Family, error) {
		f.Previous, f.Current = f.Current, hashOf(next)
		f.RotatedAt, f.LastUsedAt = t0.Add(time.Minute), t0.Add(time.Minute)
		return &f, nil
	}
}
