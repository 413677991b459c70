package accounts

import (
	"context"
	"sync"
	"time"

	"github.com/authgate/authgate/proxy/identity"
)

// Revocations is the in-memory index of revoked access tokens that the
// request path consults for authgate's own tokens: an O(1), lock-free
// lookup per request, never a store query. It is filled from the store at
// start (Load), kept current by this process's own logouts, reuse
// detections and password changes, and by Load again on a timer when
// several replicas share a store.
type Revocations struct {
	tokens   sync.Map // tokenKey → time.Time (token expiry)
	sessions sync.Map // sid (family ID) → time.Time (revoked until)
	subjects sync.Map // sub → time.Time (tokens issued before are revoked)
}

// tokenKey names one access token. A struct key (not a joined string)
// looks up without allocating.
type tokenKey struct{ iss, jti string }

// NewRevocations returns an empty index.
func NewRevocations() *Revocations { return &Revocations{} }

// Load merges the store's revocations still in force at now.
func (r *Revocations) Load(ctx context.Context, s Store, now time.Time) error {
	set, err := s.Revocations(ctx, now)
	if err != nil {
		return err
	}
	r.Apply(set)
	return nil
}

// Apply merges set: what Load reads, or what a store pushes as other
// processes commit revocations.
func (r *Revocations) Apply(set *RevocationSet) {
	for _, d := range set.Tokens {
		r.DenyToken(d.Issuer, d.JTI, d.ExpiresAt)
	}
	for _, sr := range set.Sessions {
		r.RevokeSession(sr.FamilyID, sr.Until)
	}
	for _, sr := range set.Subjects {
		r.RevokeSubject(sr.Subject, sr.Before)
	}
}

// DenyToken revokes the access token (iss, jti) until exp.
func (r *Revocations) DenyToken(iss, jti string, exp time.Time) {
	r.tokens.Store(tokenKey{iss, jti}, exp)
}

// RevokeSession revokes every access token whose "sid" claim is sid (one
// refresh family: a login and all its refreshes) until until, after which
// none of them can verify any more. A later until is never replaced by an
// earlier one.
func (r *Revocations) RevokeSession(sid string, until time.Time) {
	if sid == "" {
		return
	}
	laterWins(&r.sessions, sid, until)
}

// RevokeSubject revokes every access token of sub issued before before.
// An earlier cut-off never replaces a later one.
func (r *Revocations) RevokeSubject(sub string, before time.Time) {
	laterWins(&r.subjects, sub, before)
}

// laterWins stores t under key in m unless a later time is stored there.
func laterWins(m *sync.Map, key string, t time.Time) {
	for {
		prev, loaded := m.LoadOrStore(key, t)
		if !loaded || !t.After(prev.(time.Time)) {
			return
		}
		if m.CompareAndSwap(key, prev, t) {
			return
		}
	}
}

// Revoked reports whether id's token has been revoked: by its jti, by its
// session ("sid" claim) or by its subject and issue time.
func (r *Revocations) Revoked(id *identity.Identity) bool {
	if id.TokenID != "" {
		iss, _ := id.Claims["iss"].(string)
		if _, ok := r.tokens.Load(tokenKey{iss, id.TokenID}); ok {
			return true
		}
	}
	if sid, _ := id.Claims["sid"].(string); sid != "" {
		if _, ok := r.sessions.Load(sid); ok {
			return true
		}
	}
	if before, ok := r.subjects.Load(id.Subject); ok {
		return id.IssuedAt.Before(before.(time.Time))
	}
	return false
}

// Sweep forgets denied tokens and revoked sessions whose time ended before
// now: their access tokens can no longer verify anyway.
func (r *Revocations) Sweep(now time.Time) {
	for _, m := range []*sync.Map{&r.tokens, &r.sessions} {
		m.Range(func(k, v any) bool {
			if !now.Before(v.(time.Time)) {
				m.CompareAndDelete(k, v)
			}
			return true
		})
	}
}
