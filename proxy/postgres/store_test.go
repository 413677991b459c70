package postgres

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/accounts/storetest"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)

func TestConformance(t *testing.T) {
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
