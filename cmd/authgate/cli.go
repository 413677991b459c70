package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// configEnv names the environment variable that is the default of every
// -config flag, so a container or unit sets the config file once.
const configEnv = "AUTHGATE_CONFIG"

// streams are a command's standard input, output and error.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// command is one authgate command: a leaf that runs, or a group whose
// subcommands are listed by 'authgate GROUP -h'. The table in commands is
// the one place names, usage lines, summaries and examples are written.
type command struct {
	// name is the full name after "authgate", e.g. "users add".
	name string
	// synopsis follows the name in usage lines: the flags, required ones
	// bare and optional ones in brackets.
	synopsis string
	// summary is one line saying what the command does.
	summary string
	// example is a command line (or a few) shown by -h.
	example string
	// run runs a leaf with the arguments after its name.
	run func(ctx context.Context, c *command, st streams, args []string) error
	// subs are a group's subcommands.
	subs []*command
}

// commands returns the command tree.
func commands() *command {
	return &command{name: "", subs: []*command{
		{name: "serve", synopsis: "-config FILE [-log-level L] [-log-format F] [-log-flush D]",
			summary: "run the proxy",
			example: "authgate serve -config /etc/authgate/config.yaml\nAUTHGATE_CONFIG=/etc/authgate/config.yaml AUTHGATE_LOG_LEVEL=debug authgate serve",
			run:     serveCmd},
		{name: "check", synopsis: "-config FILE",
			summary: "validate a config and print every problem",
			example: "authgate check -config /etc/authgate/config.yaml",
			run:     checkCmd},
		{name: "healthcheck", synopsis: "[-config FILE | -url URL] [-timeout D]",
			summary: "exit 0 when the admin /readyz answers 200, 1 otherwise (a container HEALTHCHECK)",
			example: "authgate healthcheck -config /etc/authgate/config.yaml\nauthgate healthcheck -url http://127.0.0.1:9191/readyz",
			run:     healthcheckCmd},
		{name: "keys", summary: "manage signing keys", subs: []*command{
			{name: "keys generate", synopsis: "-out FILE [-alg A]",
				summary: "write a new private signing key (EdDSA, ES256, RS256)",
				example: "authgate keys generate -out /etc/authgate/signing.pem -alg ES256",
				run:     keysGenerateCmd},
		}},
		{name: "token", synopsis: "-config FILE -sub ID [-claim k=v ...] [-ttl D]",
			summary: "print an access token signed with the configured key",
			example: "authgate token -config /etc/authgate/config.yaml -sub alice -claim 'roles=[\"admin\"]' -ttl 5m",
			run:     tokenCmd},
		{name: "users", summary: "administer accounts (passwords from stdin or a prompt)", subs: []*command{
			{name: "users add", synopsis: "-config FILE -username U [-email E] [-roles a,b]",
				summary: "create a user (password from stdin or a prompt)",
				example: "authgate users add -config /etc/authgate/config.yaml -username alice -email alice@example.com -roles admin",
				run:     usersAddCmd},
			{name: "users list", synopsis: "-config FILE",
				summary: "list users",
				example: "authgate users list -config /etc/authgate/config.yaml",
				run:     usersListCmd},
			{name: "users disable", synopsis: "-config FILE -username U",
				summary: "disable a user and end all of their logins",
				example: "authgate users disable -config /etc/authgate/config.yaml -username alice",
				run:     usersDisableCmd},
			{name: "users enable", synopsis: "-config FILE -username U",
				summary: "enable a user again",
				example: "authgate users enable -config /etc/authgate/config.yaml -username alice",
				run:     usersEnableCmd},
			{name: "users set-roles", synopsis: "-config FILE -username U -roles a,b",
				summary: "replace a user's roles",
				example: "authgate users set-roles -config /etc/authgate/config.yaml -username alice -roles admin,user",
				run:     usersSetRolesCmd},
			{name: "users set-password", synopsis: "-config FILE -username U",
				summary: "set a new password (stdin or a prompt) and end all of their logins",
				example: "printf '%s\\n' \"$NEW_PASSWORD\" | authgate users set-password -config /etc/authgate/config.yaml -username alice",
				run:     usersSetPasswordCmd},
		}},
		{name: "store", summary: "administer the store", subs: []*command{
			{name: "store migrate", synopsis: "-config FILE",
				summary: "apply the schema migrations the store lacks",
				example: "authgate store migrate -config /etc/authgate/config.yaml",
				run:     storeMigrate},
			{name: "store copy", synopsis: "-from sqlite:PATH (-to URL [-to-password-file FILE] | -config FILE)",
				summary: "copy a SQLite store into a PostgreSQL store; records already there are kept",
				example: "authgate store copy -from sqlite:/var/lib/authgate/authgate.db -config /etc/authgate/config.yaml",
				run:     storeCopy},
		}},
		{name: "version", summary: "print the version",
			example: "authgate version",
			run:     versionCmd},
	}}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// dispatch runs c with args: a leaf runs, a group picks its subcommand.
func (c *command) dispatch(ctx context.Context, st streams, args []string) error {
	if c.run != nil {
		return c.run(ctx, c, st, args)
	}
	label := c.name
	if label == "" {
		label = "authgate"
	}
	if len(args) == 0 {
		c.listUsage(st.err)
		return fmt.Errorf("%w: %s: no command", errUsage, label)
	}
	if isHelp(args[0]) {
		c.listUsage(st.out)
		return nil
	}
	for _, sub := range c.subs {
		if sub.base() == args[0] {
			return sub.dispatch(ctx, st, args[1:])
		}
	}
	c.listUsage(st.err)
	return fmt.Errorf("%w: %s: unknown command %q", errUsage, label, args[0])
}

// base is the last word of the command's name.
func (c *command) base() string {
	return c.name[strings.LastIndexByte(c.name, ' ')+1:]
}

// listUsage prints a group's usage: its commands, each with its synopsis
// and summary (a subgroup's leaves are listed too).
func (c *command) listUsage(w io.Writer) {
	if c.name == "" {
		fmt.Fprint(w, "usage: authgate <command> [flags]\n\ncommands:\n")
	} else {
		fmt.Fprintf(w, "usage: authgate %s <command> [flags]\n\ncommands:\n", c.name)
	}
	var list func(g *command)
	list = func(g *command) {
		for _, sub := range g.subs {
			if sub.run == nil {
				list(sub)
				continue
			}
			line := strings.TrimSpace(sub.name + " " + sub.synopsis)
			if c.name != "" {
				line = strings.TrimPrefix(line, c.name+" ")
			}
			if len(line) > 34 {
				fmt.Fprintf(w, "  %s\n  %-34s %s\n", line, "", sub.summary)
			} else {
				fmt.Fprintf(w, "  %-34s %s\n", line, sub.summary)
			}
		}
	}
	list(c)
	which := "<command>"
	if c.name != "" {
		which = c.name + " <command>"
	}
	fmt.Fprintf(w, "\nRun 'authgate %s -h' for a command's flags and an example.\n", which)
	if c.name == "" {
		fmt.Fprintf(w, "Every -config flag defaults to $%s.\n", configEnv)
	}
}

// flags returns a new, empty flag set for the leaf c.
func (c *command) flags() *flag.FlagSet {
	return flag.NewFlagSet(c.name, flag.ContinueOnError)
}

// parse parses args with fs. -h prints the command's help to standard
// output (flag.ErrHelp: exit status 0); a flag error, or any positional
// argument, is a usage error.
func (c *command) parse(fs *flag.FlagSet, args []string, st streams) error {
	fs.SetOutput(st.err)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(st.out, fs)
			return err
		}
		fmt.Fprintf(st.err, "Run 'authgate %s -h' for its flags.\n", c.name)
		return fmt.Errorf("%w: %s: %v", errUsage, c.name, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, c.name, fs.Arg(0))
	}
	return nil
}

// help prints a leaf's usage line, summary, flags and example.
func (c *command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: authgate %s\n\n%s.\n", strings.TrimSpace(c.name+" "+c.synopsis), capitalize(c.summary))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nflags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if c.example != "" {
		fmt.Fprint(w, "\nexample:\n")
		for _, line := range strings.Split(c.example, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// configFlag declares -config, defaulting to $AUTHGATE_CONFIG.
func configFlag(fs *flag.FlagSet, usage string) *string {
	return fs.String("config", os.Getenv(configEnv), usage+" (default: $"+configEnv+")")
}

// requireFlag reports a missing mandatory flag as a usage error.
func requireFlag(fs *flag.FlagSet, name, value string) error {
	if value == "" {
		if name == "config" {
			return fmt.Errorf("%w: %s: -config is required (or set %s)", errUsage, fs.Name(), configEnv)
		}
		return fmt.Errorf("%w: %s: -%s is required", errUsage, fs.Name(), name)
	}
	return nil
}
