package accounts

import (
	"context"
	"sync"
	"time"

	"github.com/authgate/authgate/proxy/identity"
)

// Revocations is the in-memory index of revoked access tokens that the
// request path consults: an O(1), lock-free lookup per request, never a
// store query. It is filled from the store at start (Load), kept current by
// this process's own logouts and password changes, and by Load again on a
// timer when several replicas share a store.
type Revocations struct {
	tokens   sync.Map // iss + "\x00" + jti → time.Time (token expiry)
	subjects sync.Map // sub → time.Time (tokens issued before are revoked)
}

// NewRevocations returns an empty index.
func NewRevocations() *Revocations { return &Revocations{} }

// Load merges the store's revocations still in force at now.
func (r *Revocations) Load(ctx context.Context, s Store, now time.Time) error {
	denied, subjects, err := s.Revocations(ctx, now)
	if err != nil {
		return err
	}
	for _, d := range denied {
		r.DenyToken(d.Issuer, d.JTI, d.ExpiresAt)
	}
	for _, sr := range subjects {
		r.RevokeSubject(sr.Subject, sr.Before)
	}
	return nil
}

// DenyToken revokes the access token (iss, jti) until exp.
func (r *Revocations) DenyToken(iss, jti string, exp time.Time) {
	r.tokens.Store(iss+"\x00"+jti, exp)
}

// RevokeSubject revokes every access token of sub issued before before.
// An earlier cut-off never replaces a later one.
func (r *Revocations) RevokeSubject(sub string, before time.Time) {
	for {
		prev, loaded := r.subjects.LoadOrStore(sub, before)
		if !loaded || !before.After(prev.(time.Time)) {
			return
		}
		if r.subjects.CompareAndSwap(sub, prev, before) {
			return
		}
	}
}

// Revoked reports whether id's token has been revoked.
func (r *Revocations) Revoked(id *identity.Identity) bool {
	if id.TokenID != "" {
		iss, _ := id.Claims["iss"].(string)
		if _, ok := r.tokens.Load(iss + "\x00" + id.TokenID); ok {
			return true
		}
	}
	if before, ok := r.subjects.Load(id.Subject); ok {
		return id.IssuedAt.Before(before.(time.Time))
	}
	return false
}

// Sweep forgets denied tokens that expired before now; they can no longer
// verify anyway.
func (r *Revocations) Sweep(now time.Time) {
	r.tokens.Range(func(k, v any) bool {
		if !now.Before(v.(time.Time)) {
			r.tokens.Delete(k)
		}
		return true
	})
}
