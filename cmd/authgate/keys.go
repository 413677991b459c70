package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/authgate/authgate/proxy/keys"
)

// keysCmd manages signing keys: "keys generate -out FILE [-alg A]".
func keysCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "generate" {
		return fmt.Errorf("%w: keys: expected 'keys generate -out FILE [-alg EdDSA|ES256|RS256]'", errUsage)
	}
	fs := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	out := fs.String("out", "", "`file` to write the PEM private key to (created 0600, never overwritten)")
	alg := fs.String("alg", keys.EdDSA, "signing `algorithm`: EdDSA, ES256 or RS256")
	if err := parseFlags(fs, args[1:], stderr); err != nil {
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
