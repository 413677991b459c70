package sqlite

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/authgate/authgate/proxy/accounts"
)

// BenchmarkUpdateFamily measures refresh-token rotation: one UpdateFamily
// that reads the family by token hash, rotates it and commits (fsync
// included). "serial" is one client; "parallel" is GOMAXPROCS clients each
// rotating its own family, queued for the one writer.
func BenchmarkUpdateFamily(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		s, _ := openTemp(b)
		ctx := b.Context()
		if err := s.CreateUser(ctx, testUser("alice")); err != nil {
			b.Fatal(err)
		}
		if err := s.CreateFamily(ctx, testFamily("fam", "id-alice", "t0")); err != nil {
			b.Fatal(err)
		}
		hashes := make([][]byte, b.N+1)
		for i := range hashes {
			hashes[i] = hashOf(fmt.Sprintf("t%d", i))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			next := hashes[i+1]
			if err := s.UpdateFamily(ctx, hashes[i], func(f accounts.Family) (*accounts.Family, error) {
				f.Previous, f.Current = f.Current, next
				return &f, nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("parallel", func(b *testing.B) {
		s, _ := openTemp(b)
		ctx := b.Context()
		if err := s.CreateUser(ctx, testUser("alice")); err != nil {
			b.Fatal(err)
		}
		var clients atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := clients.Add(1)
			id := fmt.Sprintf("fam%d", c)
			cur := hashOf(fmt.Sprintf("%s-0", id))
			f := testFamily(id, "id-alice", fmt.Sprintf("%s-0", id))
			if err := s.CreateFamily(ctx, f); err != nil {
				b.Error(err)
				return
			}
			for i := 1; pb.Next(); i++ {
				next := hashOf(fmt.Sprintf("%s-%d", id, i))
				if err := s.UpdateFamily(ctx, cur, func(f accounts.Family) (*accounts.Family, error) {
					f.Previous, f.Current = f.Current, next
					return &f, nil
				}); err != nil {
					b.Error(err)
					return
				}
				cur = next
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// BenchmarkUserByUsername measures the login lookup, case-folded, on a
// table of 10,000 users, from parallel readers.
func BenchmarkUserByUsername(b *testing.B) {
	s, _ := openTemp(b)
	ctx := b.Context()
	const users = 10_000
	tx, err := s.wr.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range users {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users
			(id, username, username_key, email, email_key, password_hash, roles, created_at, updated_at)
			VALUES (?, ?, ?, '', NULL, 'h', '["user"]', ?, ?)`,
			fmt.Sprintf("id-%d", i), fmt.Sprintf("User%d", i), fmt.Sprintf("user%d", i), i, i); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("USER%d", i*users/len(names))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			name := names[n.Add(1)%int64(len(names))]
			if _, err := s.UserByUsername(ctx, name); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
