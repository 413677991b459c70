package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCmd runs the program in-process with args and returns what it wrote.
func runCmd(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// genKey writes a new private key of alg to path with "keys generate".
func genKey(t testing.TB, path, alg string) {
	t.Helper()
	if _, stderr, err := runCmd(t, "keys", "generate", "-out", path, "-alg", alg); err != nil {
		t.Fatalf("keys generate -out %s -alg %s: %v\nstderr: %s", path, alg, err, stderr)
	}
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Token settings of every config written by these tests.
const (
	testIssuer   = "http://authgate.test"
	testAudience = "authgate-test"
)

// testConfig is a valid config's knobs; zero fields get harmless defaults.
type testConfig struct {
	listen, adminListen string // default: fixed loopback ports never opened by check/token
	signingKey          string // default: k.pem
	upstream            string // default: http://127.0.0.1:9
}

// yaml renders c as a config file with routes /todos (required) and
// /public (none).
func (c testConfig) yaml() string {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	return fmt.Sprintf(`listen: %s
admin_listen: %s
tokens:
  issuer: %s
  audience: %s
  access_ttl: 10m
  signing_key: %s
routes:
  - name: todos
    path: /todos
    upstream: %s
    auth: required
  - name: public
    path: /public
    upstream: %s
    auth: none
`, def(c.listen, "127.0.0.1:18000"), def(c.adminListen, "127.0.0.1:19191"),
		testIssuer, testAudience, def(c.signingKey, "k.pem"),
		def(c.upstream, "http://127.0.0.1:9"), def(c.upstream, "http://127.0.0.1:9"))
}

// writeValidConfig generates an EdDSA key at dir/k.pem and writes c as
// dir/authgate.yaml, returning the config's path.
func writeValidConfig(t *testing.T, dir string, c testConfig) string {
	t.Helper()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	return writeFile(t, dir, "authgate.yaml", c.yaml())
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// running server and the reads of a test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nonEmptyLines splits s into lines, dropping empty ones.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// rawRequest sends req as written on a new connection and returns the
// status code of the first answer (0 when the connection closed or timed
// out without one).
func rawRequest(t testing.TB, addr, req string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		return 0
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	code, _ := strconv.Atoi(f[1])
	return code
}
