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
//	authgate users add|list|disable|enable|set-roles|set-password -config FILE ...
//	                                   administer accounts
//	authgate store migrate -config FILE
//	                                   apply the store's schema migrations
//	authgate store copy -from sqlite:PATH -to URL|-config FILE
//	                                   copy a SQLite store into PostgreSQL
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

const usage = `usage: authgate <command> [flags]

commands:
  serve -config FILE                 run the proxy
  check -config FILE                 validate a config and print every problem
  keys generate -out FILE [-alg A]   write a new private signing key (EdDSA, ES256, RS256)
  token -config FILE -sub ID [-claim k=v ...] [-ttl D]
                                     print an access token signed with the configured key
  users <add|list|disable|enable|set-roles|set-password> -config FILE [-username U] ...
                                     administer accounts (passwords from stdin or a prompt)
  store migrate -config FILE         apply the schema migrations the store lacks
  store copy -from sqlite:PATH (-to URL [-to-password-file FILE] | -config FILE)
                                     copy a SQLite store into a PostgreSQL store
  version                            print the version

Run 'authgate <command> -h' for a command's flags.
`

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
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(ctx, rest, stderr)
	case "check":
		return checkCmd(rest, stdout, stderr)
	case "keys":
		return keysCmd(rest, stdout, stderr)
	case "token":
		return tokenCmd(rest, stdout, stderr)
	case "users":
		return usersCmd(ctx, rest, stdin, stdout, stderr)
	case "store":
		return storeCmd(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		return versionCmd(stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// parseFlags parses args with fs, turning flag errors into usage errors.
// Positional arguments are refused.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}
	return nil
}

// requireFlag reports a missing mandatory flag as a usage error.
func requireFlag(fs *flag.FlagSet, name, value string) error {
	if value == "" {
		return fmt.Errorf("%w: %s: -%s is required", errUsage, fs.Name(), name)
	}
	return nil
}
