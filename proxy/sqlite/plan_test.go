package sqlite

import (
	"strings"
	"testing"
)

// TestSessionRevocationsUseIndex: loading session revocations reads only
// revoked families, through the partial index, not the whole table.
func TestSessionRevocationsUseIndex(t *testing.T) {
	s, _ := openTemp(t)
	rows, err := s.rd.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+sessionRevocationsQuery, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "refresh_families_revoked") {
		t.Errorf("query plan %q does not use refresh_families_revoked", p)
	}
}
