package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// Populate fills an empty store through the accounts.Store interface with
// a little of everything a dump holds (users, a rotated family, a family
// revoked by a password change, a denied token, a subject revocation and,
// when the store is an accounts.LinkStore, a user linked to an external
// provider), and returns the dump that store should give back.
func Populate(t *testing.T, s accounts.Store) *accounts.Dump {
	t.Helper()
	alice, bob := mustCreateUser(t, s, user("alice")), mustCreateUser(t, s, user("bob"))
	carol := user("carol")
	carol.Email = "" // a user without email
	mustCreateUser(t, s, carol)

	f1 := mustCreateFamily(t, s, family("fam-1", alice.ID, "a1"))
	if err := s.UpdateFamily(ctx(t), hash("a1"), func(f accounts.Family) (*accounts.Family, error) {
		f.Previous, f.Current = f.Current, hash("a2")
		f.RotatedAt, f.LastUsedAt = at(time.Minute), at(time.Minute)
		return &f, nil
	}); err != nil {
		t.Fatal(err)
	}
	f2 := mustCreateFamily(t, s, family("fam-2", bob.ID, "b1"))
	changed := at(2 * time.Minute)
	if err := s.UpdateUser(ctx(t), bob.ID, func(u *accounts.User) error {
		u.PasswordHash, u.UpdatedAt = "$argon2id$new", changed
		return nil
	}, &accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: changed}); err != nil {
		t.Fatal(err)
	}
	mustDeny(t, s, accounts.DeniedToken{Issuer: "https://authgate.test", JTI: "jti-1", ExpiresAt: at(time.Hour)})

	bob.PasswordHash, bob.UpdatedAt = "$argon2id$new", changed
	f1.Previous, f1.Current = hash("a1"), hash("a2")
	f1.RotatedAt, f1.LastUsedAt = at(time.Minute), at(time.Minute)
	f2.RevokedAt, f2.RevokeReason = changed, accounts.ReasonPasswordChange
	d := &accounts.Dump{
		Users:    []accounts.User{*alice, *bob, *carol},
		Families: []accounts.Family{*f1, *f2},
		Tokens: []accounts.IssuedToken{
			{Hash: hash("a1"), FamilyID: "fam-1", IssuedAt: base},
			{Hash: hash("a2"), FamilyID: "fam-1", IssuedAt: at(time.Minute)},
			{Hash: hash("b1"), FamilyID: "fam-2", IssuedAt: base},
		},
		Denied:   []accounts.DeniedToken{{Issuer: "https://authgate.test", JTI: "jti-1", ExpiresAt: at(time.Hour)}},
		Subjects: []accounts.SubjectRevocation{{Subject: bob.ID, Before: changed}},
	}
	if ls, ok := s.(accounts.LinkStore); ok {
		dave := user("dave")
		dave.PasswordHash = "" // signs in only through the provider
		dave.EmailVerified = true
		l := accounts.Link{Provider: "keycloak", Subject: "sub-dave", UserID: dave.ID, CreatedAt: at(3 * time.Minute)}
		if err := ls.CreateLinkedUser(ctx(t), dave, l); err != nil {
			t.Fatal(err)
		}
		d.Users = append(d.Users, *dave)
		d.Links = append(d.Links, l)
	}
	return d
}

// CompareDump reports every difference between got and want, ignoring the
// order of records.
func CompareDump(t *testing.T, got, want *accounts.Dump) {
	t.Helper()
	compareSet(t, "users", got.Users, want.Users, func(u accounts.User) string { return u.ID })
	compareSet(t, "families", got.Families, want.Families, func(f accounts.Family) string { return f.ID })
	compareSet(t, "tokens", got.Tokens, want.Tokens, func(x accounts.IssuedToken) string { return string(x.Hash) })
	compareSet(t, "denied tokens", got.Denied, want.Denied, func(d accounts.DeniedToken) string { return d.Issuer + " " + d.JTI })
	compareSet(t, "subject revocations", got.Subjects, want.Subjects, func(r accounts.SubjectRevocation) string { return r.Subject })
	compareSet(t, "external links", got.Links, want.Links, func(l accounts.Link) string { return l.Provider + " " + l.Subject })
}

func compareSet[T any](t *testing.T, what string, got, want []T, key func(T) string) {
	t.Helper()
	index := func(xs []T) map[string]T {
		m := make(map[string]T, len(xs))
		for _, x := range xs {
			m[key(x)] = x
		}
		return m
	}
	g, w := index(got), index(want)
	for k, wv := range w {
		gv, ok := g[k]
		switch {
		case !ok:
			t.Errorf("%s: %q missing", what, k)
		case !equalRecord(gv, wv):
			t.Errorf("%s: %q = %+v, want %+v", what, k, gv, wv)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: unexpected %q", what, k)
		}
	}
}

// equalRecord compares records field by field, times with Equal and a nil
// slice equal to an empty one.
func equalRecord(a, b any) bool {
	switch x := a.(type) {
	case accounts.User:
		y := b.(accounts.User)
		return x.ID == y.ID && x.Username == y.Username && x.Email == y.Email && x.EmailVerified == y.EmailVerified &&
			x.PasswordHash == y.PasswordHash &&
			slices.Equal(x.Roles, y.Roles) && x.Disabled == y.Disabled && x.CreatedAt.Equal(y.CreatedAt) && x.UpdatedAt.Equal(y.UpdatedAt)
	case accounts.Family:
		y := b.(accounts.Family)
		return x.ID == y.ID && x.UserID == y.UserID && slices.Equal(x.Current, y.Current) && slices.Equal(x.Previous, y.Previous) &&
			x.RotatedAt.Equal(y.RotatedAt) && x.CreatedAt.Equal(y.CreatedAt) && x.LastUsedAt.Equal(y.LastUsedAt) &&
			x.ExpiresAt.Equal(y.ExpiresAt) && x.RevokedAt.Equal(y.RevokedAt) && x.RevokeReason == y.RevokeReason
	case accounts.IssuedToken:
		y := b.(accounts.IssuedToken)
		return slices.Equal(x.Hash, y.Hash) && x.FamilyID == y.FamilyID && x.IssuedAt.Equal(y.IssuedAt)
	case accounts.DeniedToken:
		y := b.(accounts.DeniedToken)
		return x.Issuer == y.Issuer && x.JTI == y.JTI && x.ExpiresAt.Equal(y.ExpiresAt)
	case accounts.SubjectRevocation:
		y := b.(accounts.SubjectRevocation)
		return x.Subject == y.Subject && x.Before.Equal(y.Before)
	case accounts.Link:
		y := b.(accounts.Link)
		return x.Provider == y.Provider && x.Subject == y.Subject && x.UserID == y.UserID && x.CreatedAt.Equal(y.CreatedAt)
	}
	return false
}
