package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

func testUsers(t *testing.T, open Opener) {
	t.Run("create and get", func(t *testing.T) {
		s := open(t)
		alice := user("Alice")
		alice.Email = "Alice.Liddell@Example.COM"
		alice.Roles = []string{"admin", "user"}
		alice.UpdatedAt = at(time.Second)
		mustCreateUser(t, s, alice)
		for _, tc := range []struct {
			name string
			get  func() (*accounts.User, error)
		}{
			{"by id", func() (*accounts.User, error) { return s.UserByID(ctx(t), alice.ID) }},
			{"by username as written", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "Alice") }},
			{"by username lower case", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "alice") }},
			{"by username upper case", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "ALICE") }},
			{"by email as written", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), alice.Email) }},
			{"by email other case", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "alice.liddell@example.com") }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.get()
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, got, alice)
			})
		}
	})

	t.Run("unknown is ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, user("alice"))
		noEmail := user("bob")
		noEmail.Email = ""
		mustCreateUser(t, s, noEmail)
		for _, tc := range []struct {
			name string
			get  func() (*accounts.User, error)
		}{
			{"id", func() (*accounts.User, error) { return s.UserByID(ctx(t), "id-nobody") }},
			{"username", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "nobody") }},
			{"empty username", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "") }},
			{"email", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "nobody@example.com") }},
			{"empty email", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "") }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := tc.get()
				wantErr(t, "lookup", err, accounts.ErrNotFound)
				if u != nil {
					t.Errorf("got user %+v with the error", *u)
				}
			})
		}
	})

	t.Run("uniqueness", func(t *testing.T) {
		for _, tc := range []struct {
			name            string
			username, email string
			want            error
		}{
			{"same username", "Alice", "other@example.com", accounts.ErrUsernameTaken},
			{"username lower case", "alice", "other@example.com", accounts.ErrUsernameTaken},
			{"username upper case, no email", "ALICE", "", accounts.ErrUsernameTaken},
			{"same email", "bob", "alice@example.com", accounts.ErrEmailTaken},
			{"email other case", "bob", "ALICE@Example.Com", accounts.ErrEmailTaken},
			{"email in fullwidth letters", "bob", "\uff41\uff4c\uff49\uff43\uff45@example.com", accounts.ErrEmailTaken},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				existing := user("Alice")
				existing.Email = "alice@example.com"
				mustCreateUser(t, s, existing)
				dup := user("dup")
				dup.Username, dup.Email = tc.username, tc.email
				wantErr(t, "CreateUser", s.CreateUser(ctx(t), dup), tc.want)
				if _, err := s.UserByID(ctx(t), dup.ID); !isNotFound(err) {
					t.Errorf("refused user was stored (UserByID: %v)", err)
				}
				got, err := s.UserByUsername(ctx(t), "alice")
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, got, existing)
			})
		}
	})

	t.Run("keys fold by accounts.FoldKey", func(t *testing.T) {
		s := open(t)
		kate := user("kate")
		kate.Email = "kate@example.com"
		mustCreateUser(t, s, kate)
		strasse := user("strasse")
		strasse.Email = "stra\u00dfe@example.com"
		mustCreateUser(t, s, strasse)
		for _, tc := range []struct {
			name            string
			username, email string
			want            error
		}{
			{"username with Kelvin sign", "\u212Aate", "", accounts.ErrUsernameTaken},
			{"username in fullwidth letters", "\uff4b\uff41\uff54\uff45", "", accounts.ErrUsernameTaken},
			{"email with Kelvin sign", "k2", "\u212Aate@example.com", accounts.ErrEmailTaken},
			{"email with sharp s spelled out", "s2", "STRASSE@example.com", accounts.ErrEmailTaken},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				dup := user(name("dup%s", tc.username))
				dup.Username, dup.Email = tc.username, tc.email
				wantErr(t, "CreateUser", s.CreateUser(ctx(t), dup), tc.want)
			})
		}
		for _, tc := range []struct {
			name string
			get  func() (*accounts.User, error)
			want *accounts.User
		}{
			{"username with Kelvin sign", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "\u212Aate") }, kate},
			{"username upper case", func() (*accounts.User, error) { return s.UserByUsername(ctx(t), "KATE") }, kate},
			{"email with Kelvin sign", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "\u212Aate@example.com") }, kate},
			{"email as written", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "kate@example.com") }, kate},
			{"email with sharp s as written", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), strasse.Email) }, strasse},
			{"email with sharp s spelled out", func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "Strasse@Example.com") }, strasse},
		} {
			t.Run("finds by "+tc.name, func(t *testing.T) {
				got, err := tc.get()
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, got, tc.want)
			})
		}
	})

	t.Run("empty email is not unique", func(t *testing.T) {
		s := open(t)
		var want []*accounts.User
		for i := range 3 {
			u := user(name("nomail%d", i))
			u.Email = ""
			u.CreatedAt = at(time.Duration(i) * time.Second)
			want = append(want, mustCreateUser(t, s, u))
		}
		for _, u := range want {
			got, err := s.UserByID(ctx(t), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkUser(t, got, u)
		}
		if _, err := s.UserByEmail(ctx(t), ""); !isNotFound(err) {
			t.Errorf("UserByEmail(\"\"): %v, want ErrNotFound", err)
		}
	})

	t.Run("roles", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			roles []string
			want  []string
		}{
			{"nil", nil, nil},
			{"empty", []string{}, nil},
			{"one", []string{"admin"}, []string{"admin"}},
			{"order kept", []string{"zeta", "alpha", "mid"}, []string{"zeta", "alpha", "mid"}},
			{"odd characters", []string{`a"b`, "ü", "with space", `back\slash`}, []string{`a"b`, "ü", "with space", `back\slash`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				u := user("r")
				u.Roles = tc.roles
				mustCreateUser(t, s, u)
				got, err := s.UserByID(ctx(t), u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Roles, tc.want) {
					t.Errorf("Roles = %q, want %q", got.Roles, tc.want)
				}
			})
		}
	})

	t.Run("times", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			when time.Time
		}{
			{"utc with milliseconds", base},
			{"other zone", time.Date(2026, 7, 8, 23, 59, 59, 999_000_000, time.FixedZone("UTC+5", 5*3600))},
			{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 1_000_000, time.UTC)},
			{"far future", time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				u := user("t")
				u.CreatedAt, u.UpdatedAt = tc.when, tc.when.Add(time.Millisecond)
				mustCreateUser(t, s, u)
				got, err := s.UserByID(ctx(t), u.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)
				checkTime(t, "UpdatedAt", got.UpdatedAt, u.UpdatedAt)
			})
		}
	})

	t.Run("list order", func(t *testing.T) {
		s := open(t)
		if us, err := s.ListUsers(ctx(t)); err != nil || len(us) != 0 {
			t.Fatalf("ListUsers on an empty store = %v, %v", us, err)
		}
		// Inserted out of creation order.
		for _, c := range []struct {
			name string
			at   time.Duration
		}{{"carol", 2 * time.Second}, {"alice", 0}, {"dave", 3 * time.Second}, {"bob", time.Second}} {
			u := user(c.name)
			u.CreatedAt = at(c.at)
			mustCreateUser(t, s, u)
		}
		us, err := s.ListUsers(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range us {
			names = append(names, u.Username)
		}
		if want := []string{"alice", "bob", "carol", "dave"}; !slices.Equal(names, want) {
			t.Errorf("ListUsers order = %q, want %q", names, want)
		}
		want := user("bob")
		want.CreatedAt = at(time.Second)
		checkUser(t, &us[1], want)
	})

	t.Run("update", func(t *testing.T) {
		s := open(t)
		u := mustCreateUser(t, s, user("alice"))
		other := mustCreateUser(t, s, user("bob"))
		changed := *u
		changed.PasswordHash = "$argon2id$new"
		changed.Roles = []string{"admin"}
		changed.Disabled = true
		changed.UpdatedAt = at(time.Hour)
		if err := s.UpdateUser(ctx(t), changed.ID, Replace(&changed), nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByUsername(ctx(t), "alice")
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, &changed)

		// What Replace does not set (Username, Email, CreatedAt) stays
		// as stored.
		renamed := changed
		renamed.Username, renamed.Email, renamed.CreatedAt = "mallory", "m@example.com", at(-time.Hour)
		renamed.Roles, renamed.Disabled = nil, false
		if err := s.UpdateUser(ctx(t), renamed.ID, Replace(&renamed), nil); err != nil {
			t.Fatal(err)
		}
		got, err = s.UserByID(ctx(t), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := changed
		want.Roles, want.Disabled = nil, false
		checkUser(t, got, &want)

		gotOther, err := s.UserByID(ctx(t), other.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, gotOther, other)

		ghost := user("ghost")
		wantErr(t, "UpdateUser(unknown)", s.UpdateUser(ctx(t), ghost.ID, Replace(ghost), nil), accounts.ErrNotFound)
		wantErr(t, "UpdateUser(unknown, revoke)", s.UpdateUser(ctx(t), ghost.ID, Replace(ghost),
			&accounts.Revocation{Reason: accounts.ReasonDisabled, At: at(time.Hour)}), accounts.ErrNotFound)
		changeErr := errors.New("refused by change")
		wantErr(t, "UpdateUser(change fails)", s.UpdateUser(ctx(t), other.ID,
			func(*accounts.User) error { return changeErr }, nil), changeErr)
		if got, err := s.UserByID(ctx(t), other.ID); err != nil {
			t.Fatal(err)
		} else {
			checkUser(t, got, other) // nothing stored
		}
	})

	t.Run("update with revocation", func(t *testing.T) {
		s := open(t)
		alice := mustCreateUser(t, s, user("alice"))
		bob := mustCreateUser(t, s, user("bob"))
		live1 := mustCreateFamily(t, s, family("fam-a1", alice.ID, "a1"))
		live2 := mustCreateFamily(t, s, family("fam-a2", alice.ID, "a2"))
		mustRotate(t, s, hash("a2"), "a2'", at(time.Minute))
		ended := family("fam-a3", alice.ID, "a3")
		ended.RevokedAt, ended.RevokeReason = at(10*time.Minute), accounts.ReasonLogout
		mustCreateFamily(t, s, ended)
		bobs := mustCreateFamily(t, s, family("fam-b", bob.ID, "b"))

		changed := *alice
		changed.PasswordHash, changed.UpdatedAt = "$argon2id$changed", at(time.Hour)
		rev := &accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: at(time.Hour)}
		if err := s.UpdateUser(ctx(t), changed.ID, Replace(&changed), rev); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByID(ctx(t), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, &changed)

		want1 := *live1
		want1.RevokedAt, want1.RevokeReason = rev.At, rev.Reason
		checkFamily(t, mustGetFamily(t, s, hash("a1")), &want1)
		want2 := *rotate(*live2, "a2'", at(time.Minute))
		want2.RevokedAt, want2.RevokeReason = rev.At, rev.Reason
		checkFamily(t, mustGetFamily(t, s, hash("a2")), &want2)
		checkFamily(t, mustGetFamily(t, s, hash("a3")), ended)
		checkFamily(t, mustGetFamily(t, s, hash("b")), bobs)

		subjects := revocations(t, s, at(time.Hour+time.Minute)).Subjects
		var found bool
		for _, sr := range subjects {
			switch sr.Subject {
			case alice.ID:
				found = true
				checkTime(t, "SubjectRevocation.Before", sr.Before, rev.At)
			case bob.ID:
				t.Errorf("bob has a subject revocation: %+v", sr)
			}
		}
		if !found {
			t.Errorf("Revocations subjects = %+v, want one for %s", subjects, alice.ID)
		}
	})

	t.Run("email verified", func(t *testing.T) {
		s := open(t)
		alice := user("alice")
		alice.EmailVerified = true
		mustCreateUser(t, s, alice)
		carol := mustCreateUser(t, s, user("carol")) // unverified
		for _, get := range []func() (*accounts.User, error){
			func() (*accounts.User, error) { return s.UserByID(ctx(t), alice.ID) },
			func() (*accounts.User, error) { return s.UserByEmail(ctx(t), "ALICE@example.com") },
		} {
			got, err := get()
			if err != nil {
				t.Fatal(err)
			}
			checkUser(t, got, alice)
		}
		if got, err := s.UserByID(ctx(t), carol.ID); err != nil {
			t.Fatal(err)
		} else {
			checkUser(t, got, carol)
		}

		// Each step starts from the previous one's result.
		want := *alice
		for _, tc := range []struct {
			name     string
			email    string
			verified bool
			wantErr  error
		}{
			{"unverify", alice.Email, false, nil},
			{"verify again", alice.Email, true, nil},
			{"new verified address", "Alice.New@example.com", true, nil},
			{"another user's address", "CAROL@example.com", true, accounts.ErrEmailTaken},
			{"no address", "", false, nil},
			{"the first address back", alice.Email, true, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.UpdateUser(ctx(t), alice.ID, func(u *accounts.User) error {
					u.Email, u.EmailVerified = tc.email, tc.verified
					return nil
				}, nil)
				wantErr(t, "UpdateUser", err, tc.wantErr)
				if tc.wantErr == nil {
					want.Email, want.EmailVerified = tc.email, tc.verified
				}
				got, err := s.UserByID(ctx(t), alice.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, got, &want)
				if want.Email != "" {
					byEmail, err := s.UserByEmail(ctx(t), want.Email)
					if err != nil || byEmail.ID != alice.ID {
						t.Errorf("UserByEmail(%q) = %+v, %v; want alice", want.Email, byEmail, err)
					}
				}
				// A replaced address is free again.
				if want.Email != "Alice.New@example.com" {
					if _, err := s.UserByEmail(ctx(t), "alice.new@example.com"); !isNotFound(err) {
						t.Errorf("UserByEmail of a replaced address: %v, want ErrNotFound", err)
					}
				}
				got, err = s.UserByID(ctx(t), carol.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, got, carol)
			})
		}
	})
}

func isNotFound(err error) bool { return errors.Is(err, accounts.ErrNotFound) }

// Replace returns an UpdateUser change that sets the updatable fields of the
// stored user to v's, for tests that build the whole wanted user.
func Replace(v *accounts.User) func(*accounts.User) error {
	return func(u *accounts.User) error {
		u.PasswordHash, u.Roles, u.Disabled, u.UpdatedAt = v.PasswordHash, v.Roles, v.Disabled, v.UpdatedAt
		return nil
	}
}
