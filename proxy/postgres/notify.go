package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/proxy/accounts"
)

// revocationsChannel is the LISTEN/NOTIFY channel on which every
// revocation is announced in the transaction that commits it: PostgreSQL
// delivers the notification to every listening replica when, and only
// when, the transaction commits.
const revocationsChannel = "authgate_revocations"

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit; a
// larger one is sent as a request to reload.
const maxPayload = 7900

// notice is a notification's payload: times are unix milliseconds.
type notice struct {
	Tokens   []noticeToken   `json:"tok,omitempty"`
	Sessions []noticeSession `json:"ses,omitempty"`
	Subjects []noticeSubject `json:"sub,omitempty"`
	// Reload asks listeners to load every revocation from the store: the
	// change was too large to announce.
	Reload bool `json:"reload,omitempty"`
}

type noticeToken struct {
	Issuer string `json:"iss"`
	JTI    string `json:"jti"`
	Exp    int64  `json:"exp"`
}

type noticeSession struct {
	ID    string `json:"sid"`
	Until int64  `json:"until"`
}

type noticeSubject struct {
	Subject string `json:"sub"`
	Before  int64  `json:"before"`
}

// announce sends set to every listening replica when tx commits.
func announce(ctx context.Context, tx pgx.Tx, op string, set *accounts.RevocationSet) error {
	var n notice
	for _, d := range set.Tokens {
		n.Tokens = append(n.Tokens, noticeToken{d.Issuer, d.JTI, d.ExpiresAt.UnixMilli()})
	}
	for _, s := range set.Sessions {
		n.Sessions = append(n.Sessions, noticeSession{s.FamilyID, s.Until.UnixMilli()})
	}
	for _, s := range set.Subjects {
		n.Subjects = append(n.Subjects, noticeSubject{s.Subject, s.Before.UnixMilli()})
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("postgres: %s: announce: %w", op, err)
	}
	if len(payload) > maxPayload {
		payload = []byte(`{"reload":true}`)
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, revocationsChannel, string(payload))
	return wrapErr(op, err)
}

// decodeNotice reads a payload; a nil set with a nil error asks for a
// reload.
func decodeNotice(payload string) (*accounts.RevocationSet, error) {
	var n notice
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		return nil, fmt.Errorf("postgres: revocation notice: %w", err)
	}
	if n.Reload {
		return nil, nil
	}
	set := &accounts.RevocationSet{}
	for _, t := range n.Tokens {
		set.Tokens = append(set.Tokens, accounts.DeniedToken{Issuer: t.Issuer, JTI: t.JTI, ExpiresAt: time.UnixMilli(t.Exp).UTC()})
	}
	for _, s := range n.Sessions {
		set.Sessions = append(set.Sessions, accounts.SessionRevocation{FamilyID: s.ID, Until: time.UnixMilli(s.Until).UTC()})
	}
	for _, s := range n.Subjects {
		set.Subjects = append(set.Subjects, accounts.SubjectRevocation{Subject: s.Subject, Before: time.UnixMilli(s.Before).UTC()})
	}
	return set, nil
}

// WatchRevocations listens for the revocations every process commits to
// this database, until ctx ends or the connection fails; it returns why it
// stopped. It calls ready once it listens: the caller then loads the
// revocations it may have missed before. It calls apply with each
// announced set, or with nil when an announcement asks for a full reload.
// It holds a connection of its own, outside the pool.
func (s *Store) WatchRevocations(ctx context.Context, ready func(), apply func(*accounts.RevocationSet)) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: watch revocations: %w: %w", accounts.ErrUnavailable, errClosed)
	}
	cfg := s.pool.Config().ConnConfig
	connectCtx, cancel := context.WithTimeout(ctx, s.timeout)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return wrapErr("watch revocations", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+revocationsChannel); err != nil {
		return wrapErr("watch revocations", err)
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return wrapErr("watch revocations", err)
		}
		set, err := decodeNotice(n.Payload)
		if err != nil {
			apply(nil) // unreadable: reload rather than miss it
			continue
		}
		apply(set)
	}
}
