package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/assemble"
)

const usersUsage = `usage: authgate users <command> -config FILE [flags]

commands:
  add -username U [-email E] [-roles a,b]   create a user (password from stdin or prompt)
  list                                      list users
  disable -username U                       disable a user and end all of their logins
  enable -username U                        enable a user again
  set-roles -username U -roles a,b          replace a user's roles
  set-password -username U                  set a new password (stdin or prompt) and end all logins
`

// usersCmd administers accounts directly in the store, for deployments with
// signup closed. Passwords are read from standard input or a prompt, never
// from a flag: flags end up in shell history and process lists.
func usersCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return fmt.Errorf("%w: users: no command", errUsage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("users "+sub, flag.ContinueOnError)
	path := fs.String("config", "", "config `file`")
	username := fs.String("username", "", "the user's `name`")
	email := fs.String("email", "", "the user's `email` (add only)")
	roles := fs.String("roles", "", "comma-separated `roles`")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	if err := requireFlag(fs, "config", *path); err != nil {
		return err
	}
	switch sub {
	case "add", "disable", "enable", "set-roles", "set-password":
		if err := requireFlag(fs, "username", *username); err != nil {
			return err
		}
	case "list":
	default:
		fmt.Fprint(stderr, usersUsage)
		return fmt.Errorf("%w: users: unknown command %q", errUsage, sub)
	}
	if sub == "set-roles" && *roles == "" {
		return fmt.Errorf("%w: users set-roles: -roles is required", errUsage)
	}

	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Accounts == nil {
		return fmt.Errorf("%s: users need an accounts section and a store", *path)
	}
	res, err := assemble.Open(ctx, cfg, assemble.Options{Mode: assemble.Admin})
	if err != nil {
		return err
	}
	defer res.Close()
	if sub == "list" {
		return listUsers(ctx, res.Store(), stdout)
	}
	snap, err := assemble.Build(cfg, res)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	defer snap.Release()
	svc := snap.Gateway.Accounts()

	switch sub {
	case "add":
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		rs := cfg.Accounts.DefaultRoles
		if *roles != "" {
			rs = splitRoles(*roles)
		}
		u, err := svc.NewUser(ctx, *username, *email, pw, rs)
		if err != nil {
			return fmt.Errorf("users add: %w", err)
		}
		fmt.Fprintf(stdout, "created user %s (%s)\n", u.Username, u.ID)
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, *username, sub == "disable"); err != nil {
			return fmt.Errorf("users %s: %w", sub, named(err, *username))
		}
		fmt.Fprintf(stdout, "%sd user %s\n", sub, *username)
	case "set-roles":
		if err := svc.SetRoles(ctx, *username, splitRoles(*roles)); err != nil {
			return fmt.Errorf("users set-roles: %w", named(err, *username))
		}
		fmt.Fprintf(stdout, "set roles of %s\n", *username)
	case "set-password":
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, *username, pw); err != nil {
			return fmt.Errorf("users set-password: %w", named(err, *username))
		}
		fmt.Fprintf(stdout, "set password of %s; all of their logins ended\n", *username)
	}
	return nil
}

// named says which user was not found.
func named(err error, username string) error {
	if errors.Is(err, accounts.ErrNotFound) {
		return fmt.Errorf("no user %q: %w", username, err)
	}
	return err
}

func splitRoles(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func listUsers(ctx context.Context, store accounts.Store, stdout io.Writer) error {
	users, err := store.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("users list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tROLES\tDISABLED\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", u.ID, u.Username, u.Email,
			strings.Join(u.Roles, ","), u.Disabled, u.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return tw.Flush()
}

// readPassword reads a password: from a terminal, a prompt without echo,
// asked twice; otherwise the first line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Repeat password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("passwords do not match")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input")
	}
	return pw, nil
}
