package main

import (
	"context"
	"fmt"

	"github.com/authgate/authgate/proxy/keys"
)

// keysGenerateCmd writes a new private signing key: "keys generate -out
// FILE [-alg A]".
func keysGenerateCmd(_ context.Context, c *command, st streams, args []string) error {
	stdout := st.out
	fs := c.flags()
	out := fs.String("out", "", "`file` to write the PEM private key to (created 0600, never overwritten)")
	alg := fs.String("alg", keys.EdDSA, "signing `algorithm`: EdDSA, ES256 or RS256")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	if err := requireFlag(fs, "out", *out); err != nil {
		return err
	}
	if *alg == keys.HS256 {
		return fmt.Errorf("%w: keys generate: HS256 secrets are not PEM keys; use EdDSA, ES256 or RS256", errUsage)
	}
	k, err := keys.Generate(*alg)
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	if err := keys.WriteFile(*out, k); err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s key %s to %s\n", k.Algorithm, k.ID, *out)
	return nil
}
