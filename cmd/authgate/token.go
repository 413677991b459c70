package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/assemble"
)

// claimFlags collects repeated -claim k=v flags. A value that is valid JSON
// (a number, boolean, array or object) is used as such, any other value as
// a string; a key given several times becomes an array.
type claimFlags map[string]any

func (c claimFlags) String() string { return "" }

func (c claimFlags) Set(s string) error {
	k, raw, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	var v any = raw
	var parsed any
	if raw != "" && strings.ContainsAny(raw[:1], "[{0123456789-tfn") && json.Unmarshal([]byte(raw), &parsed) == nil && parsed != nil {
		v = parsed
	}
	switch prev := c[k].(type) {
	case nil:
		c[k] = v
	case []any:
		c[k] = append(prev, v)
	default:
		c[k] = []any{prev, v}
	}
	return nil
}

// tokenCmd prints an access token signed with the configured key: the
// operator's tool for trying routes.
func tokenCmd(ctx context.Context, c *command, st streams, args []string) error {
	stdout := st.out
	fs := c.flags()
	path := configFlag(fs, "config `file` naming the signing key, issuer and audience")
	sub := fs.String("sub", "", "subject (user `id`) of the token")
	ttl := fs.Duration("ttl", 0, "token lifetime (default: tokens.access_ttl)")
	claims := claimFlags{}
	fs.Var(claims, "claim", "extra claim `key=value` (repeatable; JSON values allowed, e.g. roles=[\"admin\"])")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"config", *path}, {"sub", *sub}} {
		if err := requireFlag(fs, f.name, f.v); err != nil {
			return err
		}
	}
	if *ttl < 0 || *ttl > config.MaxAccessTTL {
		return fmt.Errorf("%w: token: -ttl must be between 0 and %s", errUsage, config.MaxAccessTTL)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Tokens == nil {
		return fmt.Errorf("%s: tokens: not configured", *path)
	}
	res, err := assemble.Open(ctx, cfg, assemble.Options{Mode: assemble.Check})
	if err != nil {
		return err
	}
	defer res.Close()
	snap, err := assemble.Build(cfg, res)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	defer snap.Release()
	if *ttl == 0 {
		*ttl = cfg.Tokens.AccessTTL
	}
	signed, _, err := snap.Signer.Sign(*sub, claims, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, signed)
	return nil
}
