package config

import (
	"errors"
	"strings"
	"testing"
)

// envFrom returns a fixed environment lookup over m.
func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// noEnv is an environment in which no variable is set.
var noEnv = envFrom(nil)

// wantProblem describes one expected Problem: the exact Line and Path, and a
// substring of the Message.
type wantProblem struct {
	Line int
	Path string
	Msg  string
}

// parseInvalid parses src as "test.yaml" and returns the *Error it must fail
// with.
func parseInvalid(t *testing.T, src string, env func(string) (string, bool)) *Error {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(src), env)
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; cfg = %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config together with error %v", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%T, *Error) = false", err)
	}
	if e.File != "test.yaml" {
		t.Errorf("Error.File = %q, want %q", e.File, "test.yaml")
	}
	return e
}

// checkProblems compares got with want, in order.
func checkProblems(t *testing.T, got []Problem, want []wantProblem) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		g, w := got[i], want[i]
		ok = g.Line == w.Line && g.Path == w.Path && strings.Contains(g.Message, w.Msg)
	}
	if ok {
		return
	}
	var b strings.Builder
	b.WriteString("problems differ\ngot:\n")
	for _, p := range got {
		b.WriteString("  " + p.String() + "\n")
	}
	b.WriteString("want:\n")
	for _, w := range want {
		b.WriteString("  " + Problem{Line: w.Line, Path: w.Path, Message: "…" + w.Msg + "…"}.String() + "\n")
	}
	t.Error(b.String())
}

// validationErr asserts that err is an *Error wrapping ErrInvalid and returns
// its problems.
func validationErr(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%T, *Error) = false", err)
	}
	return e.Problems
}
