package storetest

import (
	"errors"
	"testing"

	"github.com/authgate/authgate/proxy/accounts"
)

// testLinks checks accounts.LinkStore on stores that implement it.
func testLinks(t *testing.T, open Opener) {
	links := func(t *testing.T) (accounts.Store, accounts.LinkStore) {
		s := open(t)
		ls, ok := s.(accounts.LinkStore)
		if !ok {
			t.Skipf("%T does not implement accounts.LinkStore", s)
		}
		return s, ls
	}
	linked := func(name string) (*accounts.User, accounts.Link) {
		u := user(name)
		u.PasswordHash = ""
		return u, accounts.Link{Provider: "keycloak", Subject: "sub-" + name, UserID: u.ID, CreatedAt: base}
	}

	t.Run("create and find", func(t *testing.T) {
		s, ls := links(t)
		alice, l := linked("alice")
		alice.EmailVerified = true
		if err := ls.CreateLinkedUser(ctx(t), alice, l); err != nil {
			t.Fatal(err)
		}
		got, err := ls.UserByLink(ctx(t), "keycloak", "sub-alice")
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, alice)
		byID, err := s.UserByID(ctx(t), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, byID, alice)
	})

	t.Run("unknown link is ErrNotFound", func(t *testing.T) {
		s, ls := links(t)
		alice, l := linked("alice")
		if err := ls.CreateLinkedUser(ctx(t), alice, l); err != nil {
			t.Fatal(err)
		}
		mustCreateUser(t, s, user("bob"))
		for _, tc := range []struct{ name, provider, subject string }{
			{"other provider", "google", "sub-alice"},
			{"other subject", "keycloak", "sub-bob"},
			{"subject of other case", "keycloak", "SUB-ALICE"},
			{"user id as subject", "keycloak", "id-bob"},
			{"empty", "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := ls.UserByLink(ctx(t), tc.provider, tc.subject)
				wantErr(t, "UserByLink", err, accounts.ErrNotFound)
				if u != nil {
					t.Errorf("user = %+v, want nil", *u)
				}
			})
		}
	})

	t.Run("collisions store nothing", func(t *testing.T) {
		s, ls := links(t)
		alice, l := linked("alice")
		if err := ls.CreateLinkedUser(ctx(t), alice, l); err != nil {
			t.Fatal(err)
		}
		mustCreateUser(t, s, user("carol"))
		for _, tc := range []struct {
			name    string
			user    func(u *accounts.User)
			link    func(l *accounts.Link)
			want    error
			subject string
		}{
			{"same link", func(u *accounts.User) {}, func(l *accounts.Link) { l.Subject = "sub-alice" }, accounts.ErrLinkTaken, "sub-alice"},
			{"username taken", func(u *accounts.User) { u.Username = "CAROL" }, func(l *accounts.Link) {}, accounts.ErrUsernameTaken, "sub-dave"},
			{"email taken", func(u *accounts.User) { u.Email = "Carol@example.com" }, func(l *accounts.Link) {}, accounts.ErrEmailTaken, "sub-dave"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dave, dl := linked("dave")
				tc.user(dave)
				tc.link(&dl)
				err := ls.CreateLinkedUser(ctx(t), dave, dl)
				wantErr(t, "CreateLinkedUser", err, tc.want)
				if _, err := s.UserByID(ctx(t), dave.ID); !errors.Is(err, accounts.ErrNotFound) {
					t.Errorf("user of a refused link: UserByID error %v, want ErrNotFound", err)
				}
				if _, err := ls.UserByLink(ctx(t), "keycloak", "sub-dave"); !errors.Is(err, accounts.ErrNotFound) {
					t.Errorf("refused link: UserByLink error %v, want ErrNotFound", err)
				}
			})
		}
		got, err := ls.UserByLink(ctx(t), "keycloak", "sub-alice")
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, alice)
	})

	t.Run("same subject at two providers", func(t *testing.T) {
		_, ls := links(t)
		alice, l := linked("alice")
		bob, bl := linked("bob")
		bl.Provider, bl.Subject = "google", l.Subject
		for _, c := range []struct {
			u *accounts.User
			l accounts.Link
		}{{alice, l}, {bob, bl}} {
			if err := ls.CreateLinkedUser(ctx(t), c.u, c.l); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ls.UserByLink(ctx(t), "google", l.Subject)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, bob)
	})
}
