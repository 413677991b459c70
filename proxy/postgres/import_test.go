package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/accounts/storetest"
	"github.com/authgate/authgate/proxy/sqlite"
)

// sqliteDump fills a SQLite store with storetest.Populate and returns its
// export with what Populate says it holds.
func sqliteDump(t *testing.T) (exported, want *accounts.Dump) {
	t.Helper()
	src, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	want = storetest.Populate(t, src)
	exported, err = src.Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return exported, want
}

// counts is a report where every kind has the dump's number of records in
// the one column.
func counts(d *accounts.Dump, added bool) accounts.ImportReport {
	c := func(n int) accounts.ImportCount {
		if added {
			return accounts.ImportCount{Added: n}
		}
		return accounts.ImportCount{Present: n}
	}
	return accounts.ImportReport{Users: c(len(d.Users)), Families: c(len(d.Families)), Tokens: c(len(d.Tokens)),
		Denied: c(len(d.Denied)), Subjects: c(len(d.Subjects)), Links: c(len(d.Links))}
}

// TestImportFromSQLite: a SQLite store's export imported into PostgreSQL
// exports the same, behaves the same through the Store interface, and a
// second import adds nothing.
func TestImportFromSQLite(t *testing.T) {
	t.Parallel()
	dump, want := sqliteDump(t)
	s, _ := openFresh(t, Options{})
	ctx := t.Context()

	rep, err := s.Import(ctx, dump)
	if err != nil {
		t.Fatal(err)
	}
	if wantRep := counts(want, true); rep != wantRep {
		t.Errorf("first import = %+v, want %+v", rep, wantRep)
	}
	got, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CompareDump(t, got, want)

	// The rotated family's old token still leads to it: reuse is detected.
	var rotated accounts.Family
	for _, f := range want.Families {
		if f.Previous != nil {
			rotated = f
		}
	}
	var seen *accounts.Family
	errSeen := errors.New("seen")
	err = s.UpdateFamily(ctx, rotated.Previous, func(f accounts.Family) (*accounts.Family, error) {
		seen = &f
		return nil, errSeen
	})
	if !errors.Is(err, errSeen) || seen == nil || seen.ID != rotated.ID || !bytes.Equal(seen.Current, rotated.Current) {
		t.Errorf("UpdateFamily by the old token: %v, family %+v; want family %s whose current token is another", err, seen, rotated.ID)
	}

	// The denied token and the subject revocation are in force.
	set, err := s.Revocations(ctx, rotated.RotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(set.Tokens, func(d accounts.DeniedToken) bool { return d.JTI == want.Denied[0].JTI }) {
		t.Errorf("Revocations tokens = %+v, want %s", set.Tokens, want.Denied[0].JTI)
	}
	if !slices.ContainsFunc(set.Subjects, func(r accounts.SubjectRevocation) bool {
		return r.Subject == want.Subjects[0].Subject && r.Before.Equal(want.Subjects[0].Before)
	}) {
		t.Errorf("Revocations subjects = %+v, want %+v", set.Subjects, want.Subjects[0])
	}

	rep, err = s.Import(ctx, dump)
	if err != nil {
		t.Fatal(err)
	}
	if wantRep := counts(want, false); rep != wantRep {
		t.Errorf("second import = %+v, want %+v", rep, wantRep)
	}
	got, err = s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CompareDump(t, got, want)
}

// TestImportConflicts: a new user whose username or email another user has,
// an external link the store holds for another user, or a link of a user
// neither in the store nor in the dump fails the whole import, naming the
// record; revocations already in the store keep the later cut-off and
// expiry.
func TestImportConflicts(t *testing.T) {
	t.Parallel()
	dump, _ := sqliteDump(t)
	if len(dump.Links) != 1 {
		t.Fatalf("dump links = %+v, want one", dump.Links)
	}
	link := dump.Links[0]
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, s *Store)
		edit    func(d *accounts.Dump) // of a copy of the dump
		wantErr error
		wantMsg string
	}{
		{
			name: "username taken by another ID",
			prepare: func(t *testing.T, s *Store) {
				u := testUser("BOB") // same username as the dump's bob, case aside
				u.Email = "elsewhere@example.com"
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: accounts.ErrUsernameTaken,
			wantMsg: `user "bob"`,
		},
		{
			name: "email taken by another ID",
			prepare: func(t *testing.T, s *Store) {
				u := testUser("robert")
				u.Email = dump.Users[1].Email
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: accounts.ErrEmailTaken,
			wantMsg: `user "` + dump.Users[1].Username + `"`,
		},
		{
			// The person signed in on PostgreSQL already and got an
			// account there: merging the two is the operator's choice.
			name: "link held by another user",
			prepare: func(t *testing.T, s *Store) {
				u := testUser("erin")
				u.PasswordHash = ""
				l := accounts.Link{Provider: link.Provider, Subject: link.Subject, UserID: u.ID, CreatedAt: t0}
				if err := s.CreateLinkedUser(t.Context(), u, l); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: accounts.ErrLinkTaken,
			wantMsg: fmt.Sprintf("external link %s %q of user %s", link.Provider, link.Subject, link.UserID),
		},
		{
			name: "link of an unknown user",
			edit: func(d *accounts.Dump) {
				d.Links = append(d.Links, accounts.Link{Provider: "google", Subject: "sub-ghost", UserID: "id-ghost"})
			},
			wantErr: accounts.ErrNotFound,
			wantMsg: `external link google "sub-ghost" of user id-ghost`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openFresh(t, Options{})
			if tc.prepare != nil {
				tc.prepare(t, s)
			}
			before, err := s.Export(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			d := *dump
			d.Links = slices.Clone(dump.Links)
			if tc.edit != nil {
				tc.edit(&d)
			}
			_, err = s.Import(t.Context(), &d)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Import: %v, want %v naming %s", err, tc.wantErr, tc.wantMsg)
			}
			got, err := s.Export(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			storetest.CompareDump(t, got, before) // nothing imported
		})
	}

	t.Run("later revocations kept", func(t *testing.T) {
		t.Parallel()
		s, _ := openFresh(t, Options{})
		ctx := t.Context()
		sub, den := dump.Subjects[0], dump.Denied[0]
		later := sub.Before.Add(time.Hour)
		// The subject's user is needed by nothing: subject revocations
		// stand alone.
		if _, err := s.pool.Exec(ctx, `INSERT INTO subject_revocations VALUES ($1, $2)`, sub.Subject, later); err != nil {
			t.Fatal(err)
		}
		if err := s.DenyAccessToken(ctx, accounts.DeniedToken{Issuer: den.Issuer, JTI: den.JTI, ExpiresAt: den.ExpiresAt.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.Import(ctx, dump)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Subjects != (accounts.ImportCount{Present: 1}) || rep.Denied != (accounts.ImportCount{Present: 1}) {
			t.Errorf("report %+v, want the subject revocation and denied token present", rep)
		}
		got, err := s.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Subjects) != 1 || !got.Subjects[0].Before.Equal(later) {
			t.Errorf("subject revocations %+v, want the later cut-off %v", got.Subjects, later)
		}
		if len(got.Denied) != 1 || !got.Denied[0].ExpiresAt.Equal(den.ExpiresAt) {
			t.Errorf("denied tokens %+v, want the later expiry %v", got.Denied, den.ExpiresAt)
		}
	})
}

// TestExport: a store filled through the accounts.Store interface exports
// exactly what it holds.
func TestExport(t *testing.T) {
	t.Parallel()
	s, _ := openFresh(t, Options{})
	want := storetest.Populate(t, s)
	got, err := s.Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	storetest.CompareDump(t, got, want)
}
