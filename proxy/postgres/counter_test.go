package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
)

// TestCounter: the throttle.Counter semantics, step by step on one store.
func TestCounter(t *testing.T) {
	t.Parallel()
	const forget = time.Hour
	type step struct {
		op       string // add, clear
		key      string
		at       time.Duration // after t0, for add
		wantN    int           // add's count, then Failures' count
		wantLast time.Duration // Failures' last failure after t0; -1 for the zero time
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"unknown key", []step{{op: "get", key: "k", wantN: 0, wantLast: -1}}},
		{"counts up", []step{
			{op: "add", key: "k", at: 0, wantN: 1, wantLast: 0},
			{op: "add", key: "k", at: time.Second, wantN: 2, wantLast: time.Second},
			{op: "add", key: "k", at: 2 * time.Second, wantN: 3, wantLast: 2 * time.Second},
		}},
		{"keys apart", []step{
			{op: "add", key: "a", at: 0, wantN: 1, wantLast: 0},
			{op: "add", key: "a", at: 0, wantN: 2, wantLast: 0},
			{op: "add", key: "b", at: time.Second, wantN: 1, wantLast: time.Second},
			{op: "get", key: "a", wantN: 2, wantLast: 0},
		}},
		{"within the forget window", []step{
			{op: "add", key: "k", at: 0, wantN: 1, wantLast: 0},
			{op: "add", key: "k", at: forget - time.Millisecond, wantN: 2, wantLast: forget - time.Millisecond},
			// The window runs from the last failure.
			{op: "add", key: "k", at: 2*forget - 2*time.Millisecond, wantN: 3, wantLast: 2*forget - 2*time.Millisecond},
		}},
		{"forget window restarts the count", []step{
			{op: "add", key: "k", at: 0, wantN: 1, wantLast: 0},
			{op: "add", key: "k", at: time.Second, wantN: 2, wantLast: time.Second},
			{op: "add", key: "k", at: time.Second + forget, wantN: 1, wantLast: time.Second + forget},
			{op: "add", key: "k", at: 2*time.Second + forget, wantN: 2, wantLast: 2*time.Second + forget},
		}},
		{"clear", []step{
			{op: "add", key: "k", at: 0, wantN: 1, wantLast: 0},
			{op: "add", key: "k", at: 0, wantN: 2, wantLast: 0},
			{op: "clear", key: "k", wantN: 0, wantLast: -1},
			{op: "add", key: "k", at: time.Second, wantN: 1, wantLast: time.Second},
		}},
		{"clear an unknown key", []step{{op: "clear", key: "k", wantN: 0, wantLast: -1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openFresh(t, Options{})
			ctx := t.Context()
			for i, st := range tc.steps {
				switch st.op {
				case "add":
					n, err := s.AddFailure(ctx, st.key, t0.Add(st.at), forget)
					if err != nil || n != st.wantN {
						t.Fatalf("step %d: AddFailure(%s, +%v) = %d, %v; want %d", i, st.key, st.at, n, err, st.wantN)
					}
				case "clear":
					if err := s.ClearFailures(ctx, st.key); err != nil {
						t.Fatalf("step %d: ClearFailures: %v", i, err)
					}
				}
				n, last, err := s.Failures(ctx, st.key)
				wantLast := time.Time{}
				if st.wantLast >= 0 {
					wantLast = t0.Add(st.wantLast)
				}
				if err != nil || n != st.wantN || !last.Equal(wantLast) {
					t.Fatalf("step %d: Failures(%s) = %d, %v, %v; want %d, %v", i, st.key, n, last, err, st.wantN, wantLast)
				}
			}
		})
	}
}

// TestCounterReplicas: concurrent failures of one key through two replicas
// each count once.
func TestCounterReplicas(t *testing.T) {
	t.Parallel()
	const n = 100
	rs := twoReplicas(t)
	errs := together(n, func(i int) error {
		_, err := rs[i%2].AddFailure(context.Background(), "k", t0.Add(time.Duration(i)*time.Millisecond), time.Hour)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if got, _, err := r.Failures(t.Context(), "k"); err != nil || got != n {
			t.Errorf("replica %d: Failures = %d, %v; want %d", i, got, err, n)
		}
	}
}

// TestPruneFailures: Prune deletes failure counts quiet for more than a
// day, and keeps the others.
func TestPruneFailures(t *testing.T) {
	t.Parallel()
	s, _ := openFresh(t, Options{})
	ctx := t.Context()
	now := t0.Add(48 * time.Hour)
	for key, at := range map[string]time.Time{
		"old":    now.Add(-failureRetention - time.Millisecond),
		"edge":   now.Add(-failureRetention),
		"recent": now.Add(-time.Minute),
	} {
		if _, err := s.AddFailure(ctx, key, at, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Prune(ctx, now); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"old": 0, "edge": 1, "recent": 1} {
		if n, _, err := s.Failures(ctx, key); err != nil || n != want {
			t.Errorf("Failures(%s) after Prune = %d, %v; want %d", key, n, err, want)
		}
	}
}

// TestCounterUnavailable: a closed store's counter fails as unavailable,
// and so does a counter whose query outlasts the timeout.
func TestCounterUnavailable(t *testing.T) {
	t.Parallel()
	s, dbURL := openFresh(t, Options{Timeout: 300 * time.Millisecond})
	calls := map[string]func(context.Context) error{
		"AddFailure": func(ctx context.Context) error {
			_, err := s.AddFailure(ctx, "k", t0, time.Hour)
			return err
		},
		"Failures":      func(ctx context.Context) error { _, _, err := s.Failures(ctx, "k"); return err },
		"ClearFailures": func(ctx context.Context) error { return s.ClearFailures(ctx, "k") },
	}
	if err := calls["AddFailure"](t.Context()); err != nil {
		t.Fatal(err)
	}
	// Another session holds the key's row lock: writes wait out the timeout.
	holder := connect(t, dbURL)
	tx, err := holder.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "SELECT 1 FROM login_failures WHERE key = 'k' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"AddFailure", "ClearFailures"} {
		if err := calls[name](t.Context()); !errors.Is(err, accounts.ErrUnavailable) {
			t.Errorf("%s behind a lock: %v, want ErrUnavailable", name, err)
		}
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for name, call := range calls {
		if err := call(t.Context()); !errors.Is(err, accounts.ErrUnavailable) || !errors.Is(err, errClosed) {
			t.Errorf("%s after Close: %v, want ErrUnavailable", name, err)
		}
	}
}
