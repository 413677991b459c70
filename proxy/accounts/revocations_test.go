package accounts_test

import (
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/identity"
)

func TestRevocationsIndex(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	r := accounts.NewRevocations()
	r.DenyToken("iss", "jti-1", t0.Add(time.Minute))
	r.RevokeSession("sid-1", t0.Add(time.Hour))
	r.RevokeSession("sid-1", t0.Add(time.Minute)) // an earlier end never shortens it
	r.RevokeSession("", t0.Add(time.Hour))        // no session: ignored
	r.RevokeSubject("bob", t0)

	token := func(sub, jti, sid string, iat time.Time) *identity.Identity {
		c := map[string]any{"iss": "iss"}
		if sid != "" {
			c["sid"] = sid
		}
		return &identity.Identity{Subject: sub, TokenID: jti, IssuedAt: iat, Claims: c}
	}
	tests := []struct {
		name  string
		id    *identity.Identity
		sweep time.Time // zero: no sweep first
		want  bool
	}{
		{"denied jti", token("alice", "jti-1", "", t0), time.Time{}, true},
		{"revoked session", token("alice", "jti-2", "sid-1", t0), time.Time{}, true},
		{"other session", token("alice", "jti-2", "sid-2", t0), time.Time{}, false},
		{"no session claim", token("alice", "jti-2", "", t0), time.Time{}, false},
		{"subject, issued before", token("bob", "jti-3", "sid-3", t0.Add(-time.Second)), time.Time{}, true},
		{"subject, issued at the cut-off", token("bob", "jti-3", "sid-3", t0), time.Time{}, false},
		{"session kept by the later end", token("alice", "jti-2", "sid-1", t0), t0.Add(30 * time.Minute), true},
		{"session swept at its end", token("alice", "jti-2", "sid-1", t0), t0.Add(time.Hour), false},
		{"jti swept at its expiry", token("alice", "jti-1", "", t0), t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.sweep.IsZero() {
				r.Sweep(tt.sweep)
			}
			if got := r.Revoked(tt.id); got != tt.want {
				t.Errorf("Revoked = %v, want %v", got, tt.want)
			}
		})
	}
}
