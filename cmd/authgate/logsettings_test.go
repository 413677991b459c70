package main

import (
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
)

// TestLogSettings: a flag wins over the environment, which wins over the
// config file's log section.
func TestLogSettings(t *testing.T) {
	file := config.Log{Level: "warn", Format: "text"}
	tests := []struct {
		name                string
		flagFormat, flagLvl string
		env                 map[string]string
		wantFormat, wantLvl string
		wantErr             string
	}{
		{name: "file", wantFormat: "text", wantLvl: "warn"},
		{name: "environment over file", env: map[string]string{"AUTHGATE_LOG_FORMAT": "json", "AUTHGATE_LOG_LEVEL": "debug"},
			wantFormat: "json", wantLvl: "debug"},
		{name: "empty environment is unset", env: map[string]string{"AUTHGATE_LOG_FORMAT": "", "AUTHGATE_LOG_LEVEL": ""},
			wantFormat: "text", wantLvl: "warn"},
		{name: "flags over environment", flagFormat: "text", flagLvl: "error",
			env: map[string]string{"AUTHGATE_LOG_FORMAT": "json", "AUTHGATE_LOG_LEVEL": "debug"}, wantFormat: "text", wantLvl: "error"},
		{name: "bad level in environment", env: map[string]string{"AUTHGATE_LOG_LEVEL": "loud"},
			wantErr: `AUTHGATE_LOG_LEVEL="loud": want debug, info, warn or error`},
		{name: "bad format in environment", env: map[string]string{"AUTHGATE_LOG_FORMAT": "xml"},
			wantErr: `AUTHGATE_LOG_FORMAT="xml": want json or text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			format, level, err := logSettings(tt.flagFormat, tt.flagLvl, lookup, file)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || format != tt.wantFormat || level != tt.wantLvl {
				t.Errorf("logSettings = %q, %q, %v; want %q, %q", format, level, err, tt.wantFormat, tt.wantLvl)
			}
		})
	}
}

// TestServeLogsFromEnvironment: a real 'serve' logs text at debug level
// when the environment says so, over the file's json.
func TestServeLogsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	admin := freeAddr(t)
	cfg := writeValidConfig(t, dir, testConfig{listen: freeAddr(t), adminListen: admin})
	t.Setenv("AUTHGATE_LOG_FORMAT", "text")
	_, done, stderr := startServe(t, cfg)
	waitHealthy(t, testClient(t), admin, done, stderr)
	waitFor(t, "a text log line", func() bool {
		return strings.Contains(stderr.String(), `level=INFO msg="authgate listening"`)
	})
}
