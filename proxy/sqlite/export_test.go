package sqlite

import (
	"context"
	"testing"

	"github.com/authgate/authgate/proxy/accounts/storetest"
)

// TestExport: a store filled through the accounts.Store interface exports
// exactly what it holds.
func TestExport(t *testing.T) {
	s, _ := openTemp(t)
	want := storetest.Populate(t, s)
	got, err := s.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	storetest.CompareDump(t, got, want)
}
