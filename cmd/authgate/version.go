package main

import (
	"fmt"
	"io"
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
func versionCmd(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "authgate %s (commit %s, %s %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
