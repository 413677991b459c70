package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxSecretFileSize bounds a file named by a *_file key: a secret, a URL.
const maxSecretFileSize = 64 << 10

// readSecretFiles reads each *_file secret named in c into the key it
// stands for (tokens.hmac_secret_file into tokens.hmac_secret, store_file
// into store), so Validate judges the value read. Setting both keys of a
// pair is a problem, and then neither file is read. Relative paths are
// resolved against the config file's directory; one trailing newline is
// not part of a secret. A problem never quotes the file's content.
func (c *Config) readSecretFiles(ps *problems) {
	if t := c.Tokens; t != nil && t.HMACSecretFile != "" {
		at := keyPath{"tokens", "hmac_secret_file"}
		if t.HMACSecret != "" {
			ps.add(at, "set either hmac_secret or hmac_secret_file, not both")
		} else if s, msg := readSecretFile(c.ResolvePath(t.HMACSecretFile)); msg != "" {
			ps.add(at, "%s", msg)
		} else {
			t.HMACSecret = s
		}
	}
	if c.StoreFile != "" {
		at := keyPath{"store_file"}
		if c.Store != "" {
			ps.add(at, "set either store or store_file, not both")
		} else if s, msg := readSecretFile(c.ResolvePath(c.StoreFile)); msg != "" {
			ps.add(at, "%s", msg)
		} else {
			c.Store = s
		}
	}
}

// SecretFiles returns the files named by the *_file keys of c, resolved
// against the config file's directory, so a watcher can reload when one
// of them changes.
func (c *Config) SecretFiles() []string {
	var out []string
	if c.Tokens != nil && c.Tokens.HMACSecretFile != "" {
		out = append(out, c.ResolvePath(c.Tokens.HMACSecretFile))
	}
	if c.StoreFile != "" {
		out = append(out, c.ResolvePath(c.StoreFile))
	}
	if c.Postgres != nil && c.Postgres.PasswordFile != "" {
		out = append(out, c.ResolvePath(c.Postgres.PasswordFile))
	}
	for _, p := range c.Providers {
		for _, f := range []string{p.ClientSecretFile, p.PrivateKeyFile} {
			if f != "" {
				out = append(out, c.ResolvePath(f))
			}
		}
	}
	return out
}

// readSecretFile returns the content of the regular file at path without
// one trailing newline, or a message saying why it cannot be used.
func readSecretFile(path string) (secret, problem string) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Sprintf("cannot read %s: %s", path, pathErrText(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return "", fmt.Sprintf("cannot read %s: %s", path, pathErrText(err))
	} else if !st.Mode().IsRegular() {
		return "", fmt.Sprintf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	switch {
	case err != nil:
		return "", fmt.Sprintf("cannot read %s: %s", path, pathErrText(err))
	case len(b) > maxSecretFileSize:
		return "", fmt.Sprintf("%s is larger than %d bytes", path, maxSecretFileSize)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Sprintf("%s is empty", path)
	}
	return s, ""
}

// pathErrText is err without the operation and path a *fs.PathError
// repeats.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
