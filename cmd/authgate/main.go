// Command authgate is an authentication reverse proxy: it verifies bearer
// JWTs per YAML route rules and forwards authenticated requests, with
// identity headers, to upstream apps that know nothing of authentication.
//
// Usage:
//
//	authgate serve -config FILE        run the proxy
//	authgate check -config FILE        validate a config, print every problem
//	authgate keys generate -out FILE   write a new private signing key
//	authgate token -config FILE -sub ID [-claim k=v ...] [-ttl D]
//	                                   print an access token signed with the configured key
//	authgate healthcheck [-config FILE | -url URL]
//	                                   exit 0 when the admin /readyz answers 200
//	authgate users add|list|disable|enable|set-roles|set-password -config FILE ...
//	                                   administer accounts
//	authgate store migrate -config FILE
//	                                   apply the store's schema migrations
//	authgate store copy -from sqlite:PATH -to URL|-config FILE
//	                                   copy a SQLite store into PostgreSQL
//
// 'authgate -h' lists the commands, 'authgate GROUP -h' a group's, and
// 'authgate COMMAND -h' a command's flags with an example. Every -config
// flag defaults to $AUTHGATE_CONFIG.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks errors caused by a bad command line (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "authgate:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "authgate:", err)
		os.Exit(1)
	}
}

// run executes one authgate command; main is only its exit-status adapter,
// so tests drive the whole program through run. Standard input is read only
// by 'users', for passwords.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWithInput(ctx, args, os.Stdin, stdout, stderr)
}

func runWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-version" || args[0] == "--version") {
		args = append([]string{"version"}, args[1:]...)
	}
	return commands().dispatch(ctx, streams{in: stdin, out: stdout, err: stderr}, args)
}
