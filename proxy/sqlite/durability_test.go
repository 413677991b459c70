//go:build unix

package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/proxy/accounts"
	"github.com/authgate/authgate/proxy/accounts/storetest"
)

// helperEnv names the database file TestHelperProcess writes to; unset, it
// is skipped.
const helperEnv = "AUTHGATE_SQLITE_HELPER_DB"

// helperLoops is how many rotations the helper acknowledges before it
// blocks; the parent kills it after a few, usually mid-transaction.
const helperLoops = 500

// TestHelperProcess is the child of TestDurableAcrossKill: it writes, prints
// "done <what>" after each call returned nil, and then blocks until killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process of TestDurableAcrossKill")
	}
	ctx := context.Background()
	ack := func(what string, err error) {
		if err != nil {
			fmt.Printf("error %s: %v\n", what, err)
			os.Exit(2)
		}
		fmt.Printf("done %s\n", what) // os.Stdout is unbuffered
	}
	s, err := Open(ctx, path)
	ack("open", err)
	ack("user", s.CreateUser(ctx, testUser("alice")))
	ack("family", s.CreateFamily(ctx, testFamily("fam", "id-alice", "r0")))
	ack("rotate", s.UpdateFamily(ctx, hashOf("r0"), rotateTo("r1")))
	ack("deny", s.DenyAccessToken(ctx, accounts.DeniedToken{Issuer: "iss", JTI: "jti-1", ExpiresAt: t0.Add(time.Hour)}))
	bob := testUser("bob")
	ack("bob", s.CreateUser(ctx, bob))
	ack("bob family", s.CreateFamily(ctx, testFamily("bobfam", bob.ID, "b0")))
	bob.PasswordHash = "$argon2id$changed"
	ack("password change", s.UpdateUser(ctx, bob.ID, storetest.Replace(bob),
		&accounts.Revocation{Reason: accounts.ReasonPasswordChange, At: t0.Add(time.Minute)}))
	ack("loop family", s.CreateFamily(ctx, testFamily("loop", "id-alice", "l0")))
	for i := 1; i <= helperLoops; i++ {
		ack(fmt.Sprintf("loop %d", i), s.UpdateFamily(ctx, hashOf(fmt.Sprintf("l%d", i-1)), rotateTo(fmt.Sprintf("l%d", i))))
	}
	time.Sleep(time.Hour) // killed long before
}

// TestDurableAcrossKill runs TestHelperProcess in a child process, SIGKILLs
// it while it is writing, and checks that every write it acknowledged is in
// the file. (A kill keeps what reached the OS; synchronous=FULL, checked by
// TestPragmas, is what also keeps it across a power loss.)
func TestDurableAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "authgate.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	acked := map[string]bool{}
	lastLoop := 0
	read := func(line string) {
		if strings.HasPrefix(line, "error ") {
			t.Errorf("child: %s", line)
		}
		what, ok := strings.CutPrefix(line, "done ")
		if !ok {
			return
		}
		acked[what] = true
		if n, ok := strings.CutPrefix(what, "loop "); ok {
			lastLoop, _ = strconv.Atoi(n)
		}
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		read(sc.Text())
		if lastLoop >= 20 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	// What the child printed before it died was acknowledged too.
	for sc.Scan() {
		read(sc.Text())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child ended with %v, want killed; stderr:\n%s", err, stderr.String())
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL; stderr:\n%s", err, stderr.String())
	}
	for _, what := range []string{"user", "family", "rotate", "deny", "password change", "loop family"} {
		if !acked[what] {
			t.Fatalf("child never acknowledged %q (last loop %d); stderr:\n%s", what, lastLoop, stderr.String())
		}
	}
	t.Logf("child killed after acknowledging %d rotations", lastLoop)

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	if _, err := s.UserByUsername(ctx, "alice"); err != nil {
		t.Errorf("acknowledged user lost: %v", err)
	}
	current := func(tok string) accounts.Family {
		t.Helper()
		var got accounts.Family
		if err := s.UpdateFamily(ctx, hashOf(tok), func(f accounts.Family) (*accounts.Family, error) {
			got = f
			return nil, nil
		}); err != nil {
			t.Fatalf("family of token %s: %v", tok, err)
		}
		return got
	}
	for _, tok := range []string{"r0", "r1"} {
		if f := current(tok); !bytes.Equal(f.Current, hashOf("r1")) {
			t.Errorf("acknowledged rotation lost: token %s leads to Current %x", tok, f.Current)
		}
	}
	set, err := s.Revocations(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	denied, subjects := set.Tokens, set.Subjects
	if len(denied) != 1 || denied[0].JTI != "jti-1" {
		t.Errorf("acknowledged denial lost: %+v", denied)
	}
	if len(subjects) != 1 || subjects[0].Subject != "id-bob" {
		t.Errorf("acknowledged subject revocation lost: %+v", subjects)
	}
	if f := current("b0"); f.RevokeReason != accounts.ReasonPasswordChange {
		t.Errorf("acknowledged family revocation lost: %+v", f)
	}
	// The loop family is at the last acknowledged rotation, or one further
	// if the child committed a rotation it did not get to acknowledge.
	f := current("l0")
	if !bytes.Equal(f.Current, hashOf(fmt.Sprintf("l%d", lastLoop))) &&
		!bytes.Equal(f.Current, hashOf(fmt.Sprintf("l%d", lastLoop+1))) {
		t.Errorf("loop family Current %x is neither l%d nor l%d", f.Current, lastLoop, lastLoop+1)
	}
}
