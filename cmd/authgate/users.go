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

// userFlags are the flags of a 'users' command: -config always, the
// others when the command takes them.
type userFlags struct {
	fs                    *flag.FlagSet
	path, username, email *string
	roles                 *string
}

// declare declares -config, and -username, -email and -roles when named.
func (c *command) userFlags(names ...string) userFlags {
	f := userFlags{fs: c.flags()}
	f.path = configFlag(f.fs, "config `file` naming the store")
	for _, n := range names {
		switch n {
		case "username":
			f.username = f.fs.String("username", "", "the user's `name`")
		case "email":
			f.email = f.fs.String("email", "", "the user's `email`")
		case "roles":
			f.roles = f.fs.String("roles", "", "comma-separated `roles`")
		}
	}
	return f
}

// parse parses args and checks that -config, and -username when declared,
// are set.
func (f userFlags) parse(c *command, args []string, st streams) error {
	if err := c.parse(f.fs, args, st); err != nil {
		return err
	}
	if err := requireFlag(f.fs, "config", *f.path); err != nil {
		return err
	}
	if f.username != nil {
		return requireFlag(f.fs, "username", *f.username)
	}
	return nil
}

// userAdmin is what a 'users' command works on: the config, its store and
// the account service built on it.
type userAdmin struct {
	cfg  *config.Config
	res  *assemble.Resources
	snap *assemble.Snapshot
	svc  *accounts.Service
}

func (a *userAdmin) close() {
	if a.snap != nil {
		a.snap.Release()
	}
	a.res.Close()
}

// openUsers loads the config at path and opens its store; with service,
// the account service too.
func openUsers(ctx context.Context, path string, service bool) (*userAdmin, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if cfg.Accounts == nil {
		return nil, fmt.Errorf("%s: users need an accounts section and a store", path)
	}
	res, err := assemble.Open(ctx, cfg, assemble.Options{Mode: assemble.Admin})
	if err != nil {
		return nil, err
	}
	a := &userAdmin{cfg: cfg, res: res}
	if !service {
		return a, nil
	}
	if a.snap, err = assemble.Build(cfg, res); err != nil {
		res.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a.svc = a.snap.Gateway.Accounts()
	return a, nil
}

// The 'users' commands administer accounts directly in the store, for
// deployments with signup closed. Passwords are read from standard input
// or a prompt, never from a flag: flags end up in shell history and
// process lists.

func usersAddCmd(ctx context.Context, c *command, st streams, args []string) error {
	f := c.userFlags("username", "email", "roles")
	if err := f.parse(c, args, st); err != nil {
		return err
	}
	a, err := openUsers(ctx, *f.path, true)
	if err != nil {
		return err
	}
	defer a.close()
	pw, err := readPassword(st.in, st.err)
	if err != nil {
		return err
	}
	rs := a.cfg.Accounts.DefaultRoles
	if *f.roles != "" {
		rs = splitRoles(*f.roles)
	}
	u, err := a.svc.NewUser(ctx, *f.username, *f.email, pw, rs)
	if err != nil {
		return fmt.Errorf("users add: %w", a.addError(ctx, err, *f.username, *f.email))
	}
	fmt.Fprintf(st.out, "created user %s (%s)\n", u.Username, u.ID)
	return nil
}

func usersListCmd(ctx context.Context, c *command, st streams, args []string) error {
	f := c.userFlags()
	if err := f.parse(c, args, st); err != nil {
		return err
	}
	a, err := openUsers(ctx, *f.path, false)
	if err != nil {
		return err
	}
	defer a.close()
	return listUsers(ctx, a.res.Store(), st.out)
}

func usersDisableCmd(ctx context.Context, c *command, st streams, args []string) error {
	return setDisabled(ctx, c, st, args, true)
}

func usersEnableCmd(ctx context.Context, c *command, st streams, args []string) error {
	return setDisabled(ctx, c, st, args, false)
}

func setDisabled(ctx context.Context, c *command, st streams, args []string, disabled bool) error {
	f := c.userFlags("username")
	if err := f.parse(c, args, st); err != nil {
		return err
	}
	a, err := openUsers(ctx, *f.path, true)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.svc.SetDisabled(ctx, *f.username, disabled); err != nil {
		return fmt.Errorf("%s: %w", c.name, userError(err, *f.username))
	}
	fmt.Fprintf(st.out, "%sd user %s\n", c.base(), *f.username)
	return nil
}

func usersSetRolesCmd(ctx context.Context, c *command, st streams, args []string) error {
	f := c.userFlags("username", "roles")
	if err := f.parse(c, args, st); err != nil {
		return err
	}
	if err := requireFlag(f.fs, "roles", *f.roles); err != nil {
		return err
	}
	a, err := openUsers(ctx, *f.path, true)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.svc.SetRoles(ctx, *f.username, splitRoles(*f.roles)); err != nil {
		return fmt.Errorf("users set-roles: %w", userError(err, *f.username))
	}
	fmt.Fprintf(st.out, "set roles of %s\n", *f.username)
	return nil
}

func usersSetPasswordCmd(ctx context.Context, c *command, st streams, args []string) error {
	f := c.userFlags("username")
	if err := f.parse(c, args, st); err != nil {
		return err
	}
	a, err := openUsers(ctx, *f.path, true)
	if err != nil {
		return err
	}
	defer a.close()
	pw, err := readPassword(st.in, st.err)
	if err != nil {
		return err
	}
	if err := a.svc.SetPassword(ctx, *f.username, pw); err != nil {
		return fmt.Errorf("users set-password: %w", userError(err, *f.username))
	}
	fmt.Fprintf(st.out, "set password of %s; all of their logins ended\n", *f.username)
	return nil
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
		email := u.Email
		if u.EmailVerified {
			// Verified by a provider: upstreams get it as X-Auth-Email.
			email += " (verified)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", u.ID, u.Username, email,
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
