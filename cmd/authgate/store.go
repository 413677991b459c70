package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/sqlite"
)

// openStore opens the store the config names, or returns nil when it names
// none. "sqlite:PATH" creates PATH's directory (0700) when missing.
func openStore(ctx context.Context, cfg *config.Config) (accounts.Store, error) {
	switch {
	case cfg.Store == "":
		return nil, nil
	case strings.HasPrefix(cfg.Store, "sqlite:"):
		path := cfg.ResolvePath(strings.TrimPrefix(cfg.Store, "sqlite:"))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	}
	return nil, errors.New("store: unsupported store (want sqlite:PATH)")
}
