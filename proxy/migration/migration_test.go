package migration

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr bool
	}{
		{"ordered by number", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("x")},
			[]string{"0001_a.sql", "0002_b.sql"}, false},
		{"none", fstest.MapFS{}, nil, false},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, true},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0001_b.sql": file("B")}, nil, true},
		{"bad name", fstest.MapFS{"m/init.sql": file("A")}, nil, true},
		{"zero", fstest.MapFS{"m/0000_a.sql": file("A")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.fsys, "m")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load() error = %v, want error %v", err, tt.wantErr)
			}
			if len(ms) != len(tt.want) {
				t.Fatalf("Load() = %d migrations, want %d", len(ms), len(tt.want))
			}
			for i, m := range ms {
				if m.Name != tt.want[i] || m.Version != i+1 || m.SQL == "" {
					t.Errorf("migration %d = %+v, want %s version %d", i, m, tt.want[i], i+1)
				}
			}
		})
	}
}
