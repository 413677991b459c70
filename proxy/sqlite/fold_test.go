package sqlite

import (
	"context"
	"testing"

	"github.com/authgate/authgate/proxy/accounts"
)

// TestLegacyEmailKey: a user created before accounts.FoldKey has the lower
// case of a non-ASCII email as its key, and can still be found by it.
func TestLegacyEmailKey(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	u := &accounts.User{ID: "id-old", Username: "old", Email: "Stra\u00dfe@example.com",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wr.ExecContext(ctx, `UPDATE users SET email_key = ? WHERE id = ?`, "stra\u00dfe@example.com", u.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, email string
		found       bool
	}{
		{"as written", "Stra\u00dfe@example.com", true},
		{"lower case", "stra\u00dfe@example.com", true},
		{"other", "other@example.com", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UserByEmail(ctx, tt.email)
			if tt.found && (err != nil || got.ID != u.ID) {
				t.Errorf("UserByEmail(%q) = %v, %v; want %s", tt.email, got, err, u.ID)
			}
			if !tt.found && err == nil {
				t.Errorf("UserByEmail(%q) found %s", tt.email, got.ID)
			}
		})
	}
}
