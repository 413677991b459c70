package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/postgres"
	"github.com/authgate/authgate/proxy/sqlite"
)

// copyTimeout bounds the import transaction of 'store copy'.
const copyTimeout = 10 * time.Minute

// storeMigrate applies the migrations of the config's store and says
// which. A SQLite store is migrated by opening it.
func storeMigrate(ctx context.Context, c *command, st streams, args []string) error {
	stdout := st.out
	fs := c.flags()
	path := configFlag(fs, "config `file` naming the store")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	if err := requireFlag(fs, "config", *path); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	switch {
	case cfg.Store == "":
		return fmt.Errorf("%s: no store configured", *path)
	case config.IsPostgres(cfg.Store):
		dbURL, opts, err := assemble.PostgresSettings(cfg)
		if err != nil {
			return err
		}
		applied, err := postgres.Migrate(ctx, dbURL, opts)
		if len(applied) > 0 {
			fmt.Fprintf(stdout, "applied %s\n", strings.Join(applied, ", "))
		}
		if err != nil {
			return fmt.Errorf("store migrate: %w", err)
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		}
		return nil
	default:
		// Open creates the file's directory and applies what is missing.
		res, err := assemble.Open(ctx, cfg, assemble.Options{Mode: assemble.Admin})
		if err != nil {
			return fmt.Errorf("store migrate: %w", err)
		}
		res.Close()
		fmt.Fprintln(stdout, "schema is up to date (sqlite migrates on open)")
		return nil
	}
}

// storeCopy exports a SQLite store and imports it into a PostgreSQL store
// in one transaction. Running it again adds only what is new, so it can be
// repeated just before the switch.
func storeCopy(ctx context.Context, c *command, st streams, args []string) error {
	stdout := st.out
	fs := c.flags()
	from := fs.String("from", "", "the SQLite store to copy, `sqlite:PATH`")
	to := fs.String("to", "", "the PostgreSQL store to copy into, a postgres:// `URL`")
	toPassword := fs.String("to-password-file", "", "`file` holding the -to database's password")
	path := fs.String("config", "", "config `file` whose store (and postgres settings) to copy into, instead of -to")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	if err := requireFlag(fs, "from", *from); err != nil {
		return err
	}
	src, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || src == "" {
		return fmt.Errorf("%w: store copy: -from must be sqlite:PATH", errUsage)
	}
	switch {
	case (*to == "") == (*path == ""):
		return fmt.Errorf("%w: store copy: give either -to or -config", errUsage)
	case *toPassword != "" && *to == "":
		return fmt.Errorf("%w: store copy: -to-password-file goes with -to", errUsage)
	}

	// The destination's settings, as serve would use them.
	dest := &config.Config{Store: *to}
	if *toPassword != "" {
		dest.Postgres = &config.Postgres{PasswordFile: *toPassword}
	}
	if *path != "" {
		cfg, err := config.Load(*path)
		if err != nil {
			return err
		}
		dest = cfg
	}
	if !config.IsPostgres(dest.Store) {
		return fmt.Errorf("%w: store copy: the destination must be a postgres:// store", errUsage)
	}
	dbURL, opts, err := assemble.PostgresSettings(dest)
	if err != nil {
		return err
	}
	// The whole copy is one transaction, bounded like one store operation:
	// query_timeout, sized for a login, would cut a large store short.
	opts.Timeout = max(opts.Timeout, copyTimeout)

	// sqlite.Open would create a missing file, and copy nothing from it.
	if fi, err := os.Stat(src); err != nil {
		return fmt.Errorf("store copy: %w", err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("store copy: %s is not a regular file", src)
	}
	lite, err := sqlite.Open(ctx, src)
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	dump, err := lite.Export(ctx)
	lite.Close()
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}

	pg, err := postgres.Open(ctx, dbURL, opts)
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	defer pg.Close()
	rep, err := pg.Import(ctx, dump)
	if err != nil {
		return fmt.Errorf("store copy: nothing copied: %w", err)
	}
	fmt.Fprintf(stdout, "copied %s to %s\n", *from, redactURL(dest.Store))
	return printReport(stdout, rep)
}

// printReport writes rep as a table.
func printReport(w io.Writer, rep accounts.ImportReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tADDED\tALREADY PRESENT")
	for _, line := range []struct {
		kind string
		c    accounts.ImportCount
	}{
		{"users", rep.Users},
		{"refresh families", rep.Families},
		{"refresh tokens", rep.Tokens},
		{"denied tokens", rep.Denied},
		{"subject revocations", rep.Subjects},
		{"external links", rep.Links},
	} {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", line.kind, line.c.Added, line.c.Present)
	}
	return tw.Flush()
}

// redactURL is a database URL fit to print: its password, in the user
// information or a parameter, masked.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
