package main

import (
	"context"
	"fmt"
	"runtime"
)

// version and commit are set at build time:
//
//	go build -ldflags "-X main.version=1.2.3 -X main.commit=abc123"
var (
	version = "dev"
	commit  = "unknown"
)

// versionCmd prints the build's version, commit and Go version.
func versionCmd(_ context.Context, c *command, st streams, args []string) error {
	if err := c.parse(c.flags(), args, st); err != nil {
		return err
	}
	_, err := fmt.Fprintf(st.out, "authgate %s (commit %s, %s %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
