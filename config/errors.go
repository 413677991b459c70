package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error that reports a bad configuration, so
// callers can tell a bad file from an unreadable one with errors.Is.
var ErrInvalid = errors.New("invalid configuration")

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Line is the 1-based YAML line the problem is on, 0 when unknown.
	Line int
	// Path is the key path, such as "routes[2].upstream"; empty for a
	// problem with the file as a whole.
	Path string
	// Message says what is wrong. It never contains a secret value.
	Message string

	keys keyPath
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error reports every problem found in one configuration file.
type Error struct {
	// File is the file name as given to Load or Parse.
	File     string
	Problems []Problem
}

// Error formats the problems one per line as "file:line: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			if p.Line > 0 {
				b.WriteByte(':')
				b.WriteString(strconv.Itoa(p.Line))
			}
			b.WriteString(": ")
		} else if p.Line > 0 {
			b.WriteString("line ")
			b.WriteString(strconv.Itoa(p.Line))
			b.WriteString(": ")
		}
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// keyPath addresses a node of the config: map keys are strings, sequence
// indexes are ints.
type keyPath []any

func (k keyPath) String() string {
	var b strings.Builder
	for _, seg := range k {
		switch s := seg.(type) {
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s))
			b.WriteByte(']')
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// with returns a new path extended by segs; k itself is never modified.
func (k keyPath) with(segs ...any) keyPath {
	out := make(keyPath, 0, len(k)+len(segs))
	out = append(out, k...)
	return append(out, segs...)
}

// problems collects problems during validation.
type problems []Problem

func (ps *problems) add(at keyPath, format string, args ...any) {
	*ps = append(*ps, Problem{Path: at.String(), Message: fmt.Sprintf(format, args...), keys: at})
}
