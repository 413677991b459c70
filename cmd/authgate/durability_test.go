package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestMain lets a test start the real program as a child process: with
// AUTHGATE_RUN_MAIN=1 the test binary is authgate.
func TestMain(m *testing.M) {
	if os.Getenv("AUTHGATE_RUN_MAIN") == "1" {
		os.Args = append([]string{"authgate"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProcess runs "authgate serve -config cfg" as a real child process
// and waits until its admin listener answers.
func startProcess(t testing.TB, cfg, admin string) *exec.Cmd {
	t.Helper()
	cmd, _ := startProcessLogs(t, cfg, admin)
	return cmd
}

// startProcessLogs is startProcess that also returns the process's log.
func startProcessLogs(t testing.TB, cfg, admin string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "-config", cfg)
	cmd.Env = append(os.Environ(), "AUTHGATE_RUN_MAIN=1")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := c.Get("http://" + admin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, logs
			}
		}
	}
	t.Fatalf("authgate did not become healthy: %s", logs.String())
	return nil, nil
}

// testHTTP is the client of process tests: it keeps up to 200 connections
// to the server alive, for the 100-client load benchmarks.
var testHTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 200, MaxIdleConnsPerHost: 200}}

// send sends a request with an optional JSON body and bearer token, and
// decodes the JSON answer.
func send(t testing.TB, method, url string, body any, bearer string) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestAcknowledgedWritesSurviveKill9: every 200/201 from signup, refresh
// and logout is on disk, so a SIGKILL right after loses none of it.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	_, upSrv := newUpstream(t)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", fmt.Sprintf(`
listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, signing_key: k.pem}
store: sqlite:state/authgate.db
accounts: {signup: open}
routes:
  - {name: todos, path: /todos, upstream: %q, auth: required}
`, listen, admin, testIssuer, testAudience, upSrv.URL))
	base := "http://" + listen
	creds := map[string]string{"username": "alice", "password": "correct horse"}

	proc := startProcess(t, cfg, admin)
	if code, body := send(t, "POST", base+"/auth/signup", creds, ""); code != 201 {
		t.Fatalf("signup: %d %v", code, body)
	}
	_, first := send(t, "POST", base+"/auth/login", creds, "")
	_, second := send(t, "POST", base+"/auth/login", creds, "")
	oldRefresh, _ := first["refresh_token"].(string)
	code, rotated := send(t, "POST", base+"/auth/refresh", map[string]string{"refresh_token": oldRefresh}, "")
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, rotated)
	}
	loggedOut, _ := second["access_token"].(string)
	if code, body := send(t, "POST", base+"/auth/logout", nil, loggedOut); code != 200 {
		t.Fatalf("logout: %d %v", code, body)
	}
	// SIGKILL: no shutdown, no flush.
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	startProcess(t, cfg, admin)
	if code, _ := send(t, "POST", base+"/auth/login", creds, ""); code != 200 {
		t.Errorf("the signed-up user is gone after kill -9: login %d", code)
	}
	newRefresh, _ := rotated["refresh_token"].(string)
	if code, _ := send(t, "POST", base+"/auth/refresh", map[string]string{"refresh_token": newRefresh}, ""); code != 200 {
		t.Errorf("the rotated refresh token is gone after kill -9: %d", code)
	}
	if code, _ := send(t, "GET", base+"/todos", nil, loggedOut); code != 401 {
		t.Errorf("the logged-out access token works again after kill -9: %d", code)
	}
}

// TestKill9DuringTraffic: SIGKILL while signups, refreshes and logouts are
// in flight. Every one answered 2xx before the kill is there after a
// restart, and the database passes PRAGMA integrity_check.
func TestKill9DuringTraffic(t *testing.T) {
	dir := t.TempDir()
	genKey(t, filepath.Join(dir, "k.pem"), "EdDSA")
	_, upSrv := newUpstream(t)
	listen, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "authgate.yaml", fmt.Sprintf(`
listen: %s
admin_listen: %s
tokens: {issuer: %s, audience: %s, signing_key: k.pem}
store: sqlite:state/authgate.db
accounts: {signup: open, hash_concurrency: 2}
routes:
  - {name: todos, path: /todos, upstream: %q, auth: required}
`, listen, admin, testIssuer, testAudience, upSrv.URL))
	base := "http://" + listen
	proc := startProcess(t, cfg, admin)

	// Each worker signs up, then refreshes and logs out in a loop; what
	// was acknowledged is recorded before the next request.
	type acked struct {
		user, refresh, loggedOut string
	}
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path string, body any, bearer string) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	results := make([]acked, 6)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("k9-%d", w)
			creds := map[string]string{"username": user, "password": "correct horse"}
			if code, _ := post("/auth/signup", creds, ""); code != 201 {
				return
			}
			results[w].user = user
			code, body := post("/auth/login", creds, "")
			if code != 200 {
				return
			}
			rt, _ := body["refresh_token"].(string)
			results[w].refresh = rt
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body := post("/auth/refresh", map[string]string{"refresh_token": rt}, "")
				if code != 200 {
					return // the kill
				}
				rt, _ = body["refresh_token"].(string)
				results[w].refresh = rt
				access, _ := body["access_token"].(string)
				if code, _ := post("/auth/logout", nil, access); code == 200 {
					// The family ended with it: no refresh token is live
					// until the next login is acknowledged.
					results[w].loggedOut, results[w].refresh = access, ""
				} else {
					return
				}
				// The logout ended the family: a new login continues.
				code, body = post("/auth/login", creds, "")
				if code != 200 {
					return
				}
				rt, _ = body["refresh_token"].(string)
				results[w].refresh = rt
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	_ = proc.Wait()

	// The database, read directly before authgate starts again: an
	// acknowledged refresh token must have been recorded as issued. (It
	// may since have been rotated by a request that was in flight at the
	// kill and never answered: that is not a lost write.)
	db, err := sql.Open("sqlite", filepath.Join(dir, "state", "authgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range results {
		if r.refresh == "" {
			continue
		}
		sum := sha256.Sum256([]byte(r.refresh))
		var n int
		if err := db.QueryRow("SELECT count(*) FROM refresh_tokens WHERE hash = ?", sum[:]).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s's last acknowledged refresh token was not recorded: %d %v", r.user, n, err)
		}
	}
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		t.Errorf("integrity_check after kill -9: %q %v", result, err)
	}

	startProcess(t, cfg, admin)
	checked := 0
	for _, r := range results {
		if r.user == "" {
			continue
		}
		checked++
		if code, _ := send(t, "POST", base+"/auth/login", map[string]string{"username": r.user, "password": "correct horse"}, ""); code != 200 {
			t.Errorf("%s signed up before the kill but cannot log in: %d", r.user, code)
		}
		if r.loggedOut != "" {
			if code, _ := send(t, "GET", base+"/todos", nil, r.loggedOut); code != 401 {
				t.Errorf("%s's acknowledged logout is undone: %d", r.user, code)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no signup was acknowledged before the kill")
	}
}
