package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The public LiveChat npm clients, pinned in testdata/npm/package-lock.json,
// run unmodified against a real server: @livechat/lc-sdk-js 4.0.2 (Agent RTM
// over wss, Agent Web over https: it speaks nothing else) and
// @livechat/chat-sdk 0.2.0 (SockJS, host hard-coded to api.livechatinc.com,
// redirected at the socket layer by testdata/npm/redirect.js).

const (
	// npmInstallTimeout bounds `npm ci` (a download on a cold cache).
	npmInstallTimeout = 5 * time.Minute
	// npmScriptTimeout bounds one client script (each has its own 20 s deadline).
	npmScriptTimeout = 45 * time.Second

	npmAgent2Email    = "npm.two@chatbridge.test"
	npmAgent2Password = "secret-two-123"
)

func TestNPMClients(t *testing.T) {
	t.Parallel()
	node, npmDir := npmReady(t)

	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	data := filepath.Join(dir, "data")
	// Agent 2 is made before serve takes the data directory.
	mustRun(t, "agent", "create", "--email", npmAgent2Email, "--name", "NPM Two", "--password", npmAgent2Password, "--data-dir", data)
	srv := startTLSServe(t, pool, "--addr", "127.0.0.1:0", "--data-dir", data, "--tls-cert", certFile, "--tls-key", keyFile,
		"--admin-email", adminEmail, "--admin-password", adminPassword, "--admin-token", adminToken)
	token1, org := srv.passwordGrant(t, adminEmail, adminPassword)
	token2, _ := srv.passwordGrant(t, npmAgent2Email, npmAgent2Password)

	env := append(os.Environ(),
		"CHATBRIDGE_ADDR="+srv.addr,
		"NODE_EXTRA_CA_CERTS="+certFile,
		"CHATBRIDGE_AGENT_TOKEN="+token1,
		"CHATBRIDGE_AGENT2_TOKEN="+token2,
		"CHATBRIDGE_ORGANIZATION_ID="+org,
		"CHATBRIDGE_NPM_WEB_ONLY=",
	)
	for _, script := range []string{"lc-sdk-js.js", "chat-sdk.js"} {
		t.Run(strings.TrimSuffix(script, ".js"), func(t *testing.T) {
			runNodeScript(t, srv, node, npmDir, script, env)
		})
	}
}

// runNodeScript runs one client script and checks its JSON result line.
func runNodeScript(t *testing.T, srv *tlsInstance, node, dir, script string, env []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), npmScriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	took := time.Since(began).Round(time.Millisecond)

	var res struct {
		Client string   `json:"client"`
		OK     bool     `json:"ok"`
		Error  string   `json:"error"`
		Steps  []string `json:"steps"`
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	jerr := json.Unmarshal([]byte(last), &res)
	if err != nil || jerr != nil || !res.OK {
		reason := res.Error
		if jerr != nil {
			reason = fmt.Sprintf("no JSON result line (%v)", jerr)
		}
		t.Fatalf("node %s failed after %v (exit: %v): %s\nstdout:\n%s\nstderr:\n%s\nserver log (tail):\n%s",
			script, took, err, reason, stdout.String(), stderr.String(), tail(srv.stderr.String(), 4000))
	}
	var summary map[string]any
	_ = json.Unmarshal([]byte(last), &summary)
	delete(summary, "steps")
	b, _ := json.Marshal(summary)
	t.Logf("node %s passed in %v: %s", script, took, b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// npmInstallMu keeps the npm tests that run in parallel from running
// `npm ci` in one directory at the same time.
var npmInstallMu sync.Mutex

// ensureNPMDeps runs `npm ci` in dir unless node_modules already holds
// exactly the versions package-lock.json pins.
// npmReady skips the test without Node.js and npm (or with
// CHATBRIDGE_SKIP_NPM=1), installs testdata/npm's pinned packages when
// node_modules does not match the lockfile, and returns node's path and
// that directory.
func npmReady(t *testing.T) (node, dir string) {
	t.Helper()
	if os.Getenv("CHATBRIDGE_SKIP_NPM") == "1" {
		t.Skip("CHATBRIDGE_SKIP_NPM=1: the npm client tests are skipped")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the npm client tests (testdata/npm) need Node.js 20 and npm")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: the npm client tests (testdata/npm) need Node.js 20 and npm")
	}
	dir, err = filepath.Abs(filepath.Join("..", "..", "testdata", "npm"))
	if err != nil {
		t.Fatal(err)
	}
	ensureNPMDeps(t, dir)
	return node, dir
}

func ensureNPMDeps(t *testing.T, dir string) {
	t.Helper()
	npmInstallMu.Lock()
	defer npmInstallMu.Unlock()
	why := npmDepsStale(dir)
	if why == "" {
		return
	}
	t.Logf("npm ci in %s: %s", dir, why)
	ctx, cancel := context.WithTimeout(t.Context(), npmInstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in %s (needs the npm registry; set CHATBRIDGE_SKIP_NPM=1 to skip these tests): %v\n%s", dir, err, out)
	}
	if why := npmDepsStale(dir); why != "" {
		t.Fatalf("after npm ci, node_modules still differs from package-lock.json: %s", why)
	}
	t.Logf("npm ci took %v", time.Since(began).Round(time.Millisecond))
}

// npmDepsStale says why node_modules does not match package-lock.json, or "".
func npmDepsStale(dir string) string {
	type lock struct {
		Packages map[string]struct {
			Version  string `json:"version"`
			Optional bool   `json:"optional"`
		} `json:"packages"`
	}
	read := func(name string) (*lock, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var l lock
		return &l, json.Unmarshal(b, &l)
	}
	want, err := read("package-lock.json")
	if err != nil {
		return "package-lock.json: " + err.Error()
	}
	have, err := read(filepath.Join("node_modules", ".package-lock.json"))
	if err != nil {
		return "node_modules is not installed (" + err.Error() + ")"
	}
	for path, p := range want.Packages {
		if path == "" || p.Optional {
			continue
		}
		if got, ok := have.Packages[path]; !ok || got.Version != p.Version {
			return fmt.Sprintf("%s: installed %q, locked %q", path, got.Version, p.Version)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path), "package.json")); err != nil {
			return path + " is missing"
		}
	}
	return ""
}

// tlsInstance is a serve with --tls-cert running in the test process.
type tlsInstance struct {
	addr   string
	client *http.Client
	stderr *syncBuffer
}

// startTLSServe runs serve with args (which must include --tls-cert) until
// the test ends, and waits until it answers /healthz over TLS.
func startTLSServe(t *testing.T, pool *x509.CertPool, args ...string) *tlsInstance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &tlsInstance{stderr: &syncBuffer{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, args, &syncBuffer{}, in.stderr, ready) }()
	select {
	case in.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve %v ended before listening: %v\nstderr:\n%s", args, err, in.stderr)
	case <-time.After(startTimeout):
		cancel()
		t.Fatalf("serve %v did not listen within %v\nstderr:\n%s", args, startTimeout, in.stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after cancel, want nil", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("serve did not return within %v of cancel", stopTimeout)
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		res, err := in.client.Get("https://" + in.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("https /healthz did not answer 200 within %v: %v", startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, not a wait for an event
	}
}

// passwordGrant signs in at POST /v2/token and returns the access token and
// the organization id.
func (in *tlsInstance) passwordGrant(t *testing.T, email, password string) (token, org string) {
	t.Helper()
	res, err := in.client.PostForm("https://"+in.addr+"/v2/token",
		url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}})
	if err != nil {
		t.Fatalf("password grant for %s: %v", email, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		AccessToken    string `json:"access_token"`
		OrganizationID string `json:"organization_id"`
	}
	if err := json.Unmarshal(b, &body); err != nil || res.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("password grant for %s: %d %s (%v)", email, res.StatusCode, b, err)
	}
	return body.AccessToken, body.OrganizationID
}
