package accounts

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWriteMonitor(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	unavailable := fmt.Errorf("sqlite: create user: %w: disk I/O error", ErrUnavailable)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	noProbe := func(context.Context) error { t.Error("unexpected probe"); return nil }
	for _, tt := range []struct {
		name    string
		ctx     context.Context
		err     error
		after   time.Duration
		wantErr error
	}{
		{"success", context.Background(), nil, 0, nil},
		{"unavailable", context.Background(), unavailable, 0, ErrNotWritable},
		{"unavailable, just inside the window", context.Background(), unavailable, WriteFailureWindow - time.Second, ErrNotWritable},
		{"unavailable, window over", context.Background(), unavailable, WriteFailureWindow, nil},
		{"the caller gave up", canceled, unavailable, 0, nil},
		{"the request's error", context.Background(), ErrUsernameTaken, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := now
			m := &WriteMonitor{Now: func() time.Time { return at }}
			m.Record(tt.ctx, tt.err)
			at = at.Add(tt.after)
			probe := noProbe
			if tt.after >= WriteProbeInterval && tt.wantErr != nil {
				probe = func(context.Context) error { return nil }
			}
			if err := m.Check(probe); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Check: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestWriteMonitorSuccessClears: a successful write ends a failure at once.
func TestWriteMonitorSuccessClears(t *testing.T) {
	var m WriteMonitor
	m.Record(context.Background(), ErrUnavailable)
	if err := m.Check(nil); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Check after a failure: %v", err)
	}
	m.Record(context.Background(), nil)
	if err := m.Check(nil); err != nil {
		t.Fatalf("Check after a success: %v", err)
	}
}
