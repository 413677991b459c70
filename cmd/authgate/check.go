package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/assemble"
)

// checkCmd loads and validates a config, and assembles it as serve would
// (every key, certificate and file it names is read), without side
// effects: no listener, no store created or migrated, no identity provider
// asked. Every problem is printed, validation problems as
// "file:line: key.path: message"; warnings (config.Warnings) are printed as
// "WARNING: file: key.path: message" and do not fail the check.
func checkCmd(ctx context.Context, c *command, st streams, args []string) error {
	stdout := st.out
	fs := c.flags()
	path := configFlag(fs, "config `file` to check")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	if err := requireFlag(fs, "config", *path); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			fmt.Fprintln(stdout, cerr.Error())
			return fmt.Errorf("%s: %d problem(s)", *path, len(cerr.Problems))
		}
		return err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stdout, "WARNING: %s: %s\n", *path, w)
	}
	res, err := assemble.Open(ctx, cfg, assemble.Options{Mode: assemble.Check})
	if err != nil {
		return err
	}
	defer res.Close()
	snap, err := assemble.Build(cfg, res)
	if err != nil {
		problems := []error{err}
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			problems = joined.Unwrap()
		}
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s: %v\n", *path, p)
		}
		return fmt.Errorf("%s: %d problem(s)", *path, len(problems))
	}
	snap.Release()
	fmt.Fprintf(stdout, "%s: ok (%d routes)\n", *path, len(cfg.Routes))
	return nil
}
