package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
)

// checkCmd loads and validates a config, and compiles it as serve would
// (loading keys, opening the store), without opening any listener. Every problem is printed as
// "file:line: key.path: message".
func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("config", "", "config `file` to check")
	if err := parseFlags(fs, args, stderr); err != nil {
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
	store, err := openStore(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(stdout, "%s: %v\n", *path, err)
		return fmt.Errorf("%s: 1 problem(s)", *path)
	}
	if store != nil {
		defer store.Close()
	}
	if _, err := proxy.New(cfg, proxy.Options{Store: store}); err != nil {
		fmt.Fprintf(stdout, "%s: %v\n", *path, err)
		return fmt.Errorf("%s: 1 problem(s)", *path)
	}
	fmt.Fprintf(stdout, "%s: ok (%d routes)\n", *path, len(cfg.Routes))
	return nil
}
