package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore"
)

const (
	// startTimeout bounds one serve start (embedded FerretDB, schema, bcrypt).
	startTimeout = 30 * time.Second
	// stopTimeout bounds one serve shutdown.
	stopTimeout = 30 * time.Second

	adminEmail    = "a@b.test"
	adminPassword = "secret123"
	adminToken    = "0123456789abcdef0123456789abcdef" // 32 characters
)

// TestMain clears chatbridge's env vars so the developer's shell does not
// change what the tests see; the env tests set their own with t.Setenv.
func TestMain(m *testing.M) {
	for _, s := range (&config{}).settings() {
		os.Unsetenv(s.env)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer serve may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one `chatbridge serve` running in the test process.
type instance struct {
	base           string // http://127.0.0.1:port
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
	once           sync.Once
}

// startServe runs serve with args until the test ends (or stop) and waits
// until it listens.
func startServe(t *testing.T, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { in.done <- serve(ctx, args, in.stdout, in.stderr, ready) }()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case addr := <-ready:
		in.base = "http://" + addr
	case err := <-in.done:
		cancel()
		t.Fatalf("serve %v ended before listening: %v\nstderr:\n%s", args, err, in.stderr)
	case <-timer.C:
		cancel()
		t.Fatalf("serve %v did not listen within %v\nstderr:\n%s", args, startTimeout, in.stderr)
	}
	t.Cleanup(func() { in.stop(t) })
	in.waitHealthy(t)
	return in
}

// waitHealthy polls /healthz until it answers 200. Besides proving the
// server answers, a served request orders serve's own start-up before the
// test's later cancel (see the rest.Server.Serve/Shutdown race in the report).
func (in *instance) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		res, err := client.Get(in.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200 within %v: %v", startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, not a wait for an event
	}
}

// stop cancels serve and waits for it to return nil; later calls do nothing.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.once.Do(func() {
		in.cancel()
		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()
		select {
		case err := <-in.done:
			if err != nil {
				t.Errorf("serve returned %v after cancel, want nil\nstderr:\n%s", err, in.stderr)
			}
		case <-timer.C:
			t.Errorf("serve did not return within %v of cancel", stopTimeout)
		}
	})
}

// serveArgs are the flags of a test server on dir, plus extra.
func serveArgs(dir string, extra ...string) []string {
	return append([]string{"--addr", "127.0.0.1:0", "--data-dir", dir}, extra...)
}

// reply is one HTTP answer.
type reply struct {
	status int
	body   []byte
}

func (r reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

var client = &http.Client{Timeout: 30 * time.Second}

func (in *instance) do(t *testing.T, method, path, auth, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, in.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return reply{status: res.StatusCode, body: b}
}

// info is GET /v2/info with auth; it fails the test unless the answer is 200.
func (in *instance) info(t *testing.T, auth string) map[string]any {
	t.Helper()
	r := in.do(t, http.MethodGet, "/v2/info", auth, "", "")
	if r.status != http.StatusOK {
		t.Fatalf("/v2/info: status %d, want 200: %s", r.status, r.body)
	}
	return r.object(t)
}

// wantUnauthorized checks a 401 in LiveChat's error envelope.
func wantUnauthorized(t *testing.T, r reply) {
	t.Helper()
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", r.status, r.body)
	}
	var b struct {
		Error struct{ Type, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error.Type != livechat.TypeAuthentication {
		t.Errorf("body %s, want {\"error\":{\"type\":\"authentication\",...}}", r.body)
	}
}

// passwordGrant signs in at POST /v2/token and returns the access token.
func (in *instance) passwordGrant(t *testing.T, email, password string) string {
	t.Helper()
	r := in.do(t, http.MethodPost, "/v2/token", "", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}.Encode())
	if r.status != http.StatusOK {
		t.Fatalf("password grant for %s: status %d: %s", email, r.status, r.body)
	}
	tok, _ := r.object(t)["access_token"].(string)
	if tok == "" {
		t.Fatalf("password grant: no access_token in %s", r.body)
	}
	return tok
}

// customerToken runs the widget's cookie grant and returns token and entity id.
func (in *instance) customerToken(t *testing.T, org string) (token, entity string) {
	t.Helper()
	body := `{"grant_type":"cookie","client_id":"widget","organization_id":"` + org + `","response_type":"token"}`
	r := in.do(t, http.MethodPost, "/v2/customer/token", "", "text/plain", body)
	if r.status != http.StatusOK {
		t.Fatalf("customer token: status %d: %s", r.status, r.body)
	}
	m := r.object(t)
	token, _ = m["access_token"].(string)
	entity, _ = m["entity_id"].(string)
	if token == "" || entity == "" {
		t.Fatalf("customer token: %s", r.body)
	}
	return token, entity
}

var bootstrapTokenRe = regexp.MustCompile(`Bearer token \(shown once\): (\S+)`)

// bootstrapToken returns the token serve printed on first start.
func bootstrapToken(t *testing.T, stdout string) string {
	t.Helper()
	if !strings.Contains(stdout, "First start: created owner agent "+bootstrapEmail) {
		t.Fatalf("stdout lacks the first-start notice:\n%s", stdout)
	}
	m := bootstrapTokenRe.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("stdout lacks the bootstrap token:\n%s", stdout)
	}
	return m[1]
}

// runCLI runs a command line to completion and returns its stdout.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	err := run(ctx, args, &stdout, &stderr)
	if err != nil {
		t.Logf("chatbridge %v: %v\nstderr:\n%s", args, err, stderr.String())
	}
	return stdout.String(), err
}

// mustRun is runCLI that fails the test on error.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("chatbridge %v: %v", args, err)
	}
	return out
}

var (
	accountIDRe = regexp.MustCompile(`(?m)^account_id: (\S+)$`)
	tokenRe     = regexp.MustCompile(`(?m)^token: +(\S+)$`)
)

// agentToken runs `agent token` and returns the Basic Authorization value it describes.
func agentToken(t *testing.T, args ...string) string {
	t.Helper()
	out := mustRun(t, append([]string{"agent", "token"}, args...)...)
	acc, tok := accountIDRe.FindStringSubmatch(out), tokenRe.FindStringSubmatch(out)
	if acc == nil || tok == nil {
		t.Fatalf("agent token printed no account_id and token:\n%s", out)
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(acc[1]+":"+tok[1]))
}

func TestFirstStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := startServe(t, serveArgs(dir)...)
	token := bootstrapToken(t, in.stdout.String())

	info := in.info(t, "Bearer "+token)
	if info["entity_id"] != bootstrapEmail {
		t.Errorf("entity_id = %v, want %s", info["entity_id"], bootstrapEmail)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := in.do(t, http.MethodGet, path, "", "", ""); r.status != http.StatusOK {
			t.Errorf("%s = %d, want 200: %s", path, r.status, r.body)
		}
	}
	if r := in.do(t, http.MethodGet, "/metrics", "", "", ""); !bytes.Contains(r.body, []byte("chatbridge_http_requests_total")) {
		t.Errorf("/metrics lacks chatbridge_http_requests_total")
	}
	wantUnauthorized(t, in.do(t, http.MethodGet, "/v2/info", "Bearer "+token+"x", "", ""))
	if strings.Contains(in.stderr.String(), token) {
		t.Errorf("the bootstrap token was logged")
	}

	in.stop(t)
	again := startServe(t, serveArgs(dir)...)
	if out := again.stdout.String(); strings.Contains(out, "First start") {
		t.Errorf("second start printed a first-start notice:\n%s", out)
	}
	if got := again.info(t, "Bearer "+token); got["organization_id"] != info["organization_id"] {
		t.Errorf("organization_id after restart = %v, want %v", got["organization_id"], info["organization_id"])
	}
}

func TestAdminFlags(t *testing.T) {
	t.Parallel()
	in := startServe(t, serveArgs(t.TempDir(),
		"--admin-email", adminEmail, "--admin-password", adminPassword, "--admin-token", adminToken)...)
	if out := in.stdout.String(); strings.Contains(out, "First start") {
		t.Errorf("with --admin-email, serve still bootstrapped an owner:\n%s", out)
	}

	info := in.info(t, "Bearer "+adminToken)
	if info["entity_id"] != adminEmail {
		t.Errorf("entity_id = %v, want %s", info["entity_id"], adminEmail)
	}
	if acc, _ := info["account_id"].(string); acc == "" {
		t.Errorf("no account_id in %v", info)
	}

	access := in.passwordGrant(t, adminEmail, adminPassword)
	if got := in.info(t, "Bearer "+access); got["entity_id"] != adminEmail {
		t.Errorf("password-grant token is %v, want %s", got["entity_id"], adminEmail)
	}

	wantUnauthorized(t, in.do(t, http.MethodGet, "/v2/info", "Bearer "+strings.Repeat("x", 32), "", ""))
	r := in.do(t, http.MethodPost, "/v2/token", "", "application/json",
		`{"grant_type":"password","username":"a@b.test","password":"wrong-password"}`)
	if r.status != http.StatusUnauthorized || r.object(t)["oauth_exception"] != "invalid_grant" {
		t.Errorf("wrong password: %d %s, want 401 invalid_grant", r.status, r.body)
	}
	for _, secret := range []string{adminToken, adminPassword, access} {
		if strings.Contains(in.stderr.String(), secret) {
			t.Errorf("a secret was logged: %q", secret)
		}
	}
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	first := startServe(t, serveArgs(dir)...)
	owner := "Bearer " + bootstrapToken(t, first.stdout.String())
	org, _ := first.info(t, owner)["organization_id"].(string)
	customerAccess, entity := first.customerToken(t, org)
	first.stop(t)

	out := mustRun(t, "agent", "create", "--email", "x@y.test", "--password", "secret123", "--name", "X Y", "--data-dir", dir)
	if !strings.Contains(out, "created agent x@y.test") {
		t.Errorf("agent create printed %q", out)
	}
	var agents []livechat.Agent
	if err := json.Unmarshal([]byte(mustRun(t, "agent", "list", "--json", "--data-dir", dir)), &agents); err != nil {
		t.Fatalf("agent list --json: %v", err)
	}
	ids := map[string]livechat.Agent{}
	for _, a := range agents {
		ids[a.ID] = a
	}
	if len(agents) != 2 || ids[bootstrapEmail].Role != livechat.RoleOwner || ids["x@y.test"].Name != "X Y" {
		t.Errorf("agent list = %+v, want the bootstrap owner and x@y.test", agents)
	}
	if table := mustRun(t, "agent", "list", "--data-dir", dir); !strings.Contains(table, "ACCOUNT_ID") || !strings.Contains(table, "x@y.test") {
		t.Errorf("agent list printed:\n%s", table)
	}

	second := startServe(t, serveArgs(dir)...)
	if got := second.info(t, owner)["organization_id"]; got != org {
		t.Errorf("organization_id after restart = %v, want %s", got, org)
	}
	if got := second.info(t, "Bearer "+customerAccess)["entity_id"]; got != entity {
		t.Errorf("customer token after restart is %v, want %s", got, entity)
	}
	access := second.passwordGrant(t, "x@y.test", "secret123")
	if got := second.info(t, "Bearer "+access)["entity_id"]; got != "x@y.test" {
		t.Errorf("x@y.test's token is %v", got)
	}
}

func TestDataDirInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startServe(t, serveArgs(dir)...)
	for _, args := range [][]string{
		{"agent", "list", "--data-dir", dir},
		{"agent", "create", "--email", "x@y.test", "--data-dir", dir},
		{"agent", "token", "--email", bootstrapEmail, "--data-dir", dir},
		serveArgs(dir),
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			_, err := runCLI(t, args...)
			if !errors.Is(err, mongostore.ErrDataDirLocked) || !strings.Contains(err.Error(), "in use") {
				t.Errorf("err = %v, want the data directory in use (mongostore.ErrDataDirLocked)", err)
			}
		})
	}
}

func TestAgentCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, "agent", "create", "--email", "x@y.test", "--password", "secret123", "--role", "administrator", "--data-dir", dir)
	basicAuth := agentToken(t, "--email", "x@y.test", "--name", "ci", "--data-dir", dir)
	expiring := agentToken(t, "--email", "x.y.test", "--ttl", "1h", "--data-dir", dir) // by username

	// Creating an existing agent with a password sets the password.
	if out := mustRun(t, "agent", "create", "--email", "x@y.test", "--password", "another-secret", "--data-dir", dir); !strings.Contains(out, "password updated") {
		t.Errorf("second agent create printed %q", out)
	}

	in := startServe(t, serveArgs(dir)...)
	if out := in.stdout.String(); strings.Contains(out, "First start") {
		t.Errorf("serve bootstrapped an owner although an agent exists:\n%s", out)
	}
	info := in.info(t, basicAuth)
	if info["entity_id"] != "x@y.test" {
		t.Errorf("entity_id = %v, want x@y.test", info["entity_id"])
	}
	if _, ok := info["expires_in"]; ok {
		t.Errorf("a --ttl 0 token has expires_in %v", info["expires_in"])
	}
	expiringInfo := in.info(t, expiring)
	in.passwordGrant(t, "x@y.test", "another-secret")

	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(basicAuth, "Basic "))
	_, secret, _ := strings.Cut(string(raw), ":")
	wantUnauthorized(t, in.do(t, http.MethodGet, "/v2/info", "Basic "+base64.StdEncoding.EncodeToString([]byte(livechat.NewUUID()+":"+secret)), "", ""))

	t.Run("ttl token reports expires_in", func(t *testing.T) {
		n, ok := expiringInfo["expires_in"].(float64)
		if !ok {
			t.Errorf("no expires_in in %v", expiringInfo)
		}
		if n <= 0 || n > 3600 {
			t.Errorf("--ttl 1h token: expires_in = %v", n)
		}
	})
}

func TestAgentCommandErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"create without email", []string{"agent", "create"}, "--email is required"},
		{"create with bad email", []string{"agent", "create", "--email", "not-an-email"}, "e-mail"},
		{"create with bad role", []string{"agent", "create", "--email", "x@y.test", "--role", "king"}, "role"},
		{"create with bad group", []string{"agent", "create", "--email", "x@y.test", "--groups", "1,abc"}, "not a group id"},
		{"create in an unknown group", []string{"agent", "create", "--email", "x@y.test", "--groups", "7"}, "group 7"},
		{"create with short password", []string{"agent", "create", "--email", "x@y.test", "--password", "123"}, "password"},
		{"token without email", []string{"agent", "token"}, "--email is required"},
		{"token for nobody", []string{"agent", "token", "--email", "nobody@y.test"}, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := runCLI(t, append(tc.args, "--data-dir", t.TempDir())...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestServeFromEnv reads every setting from CHATBRIDGE_* env vars (no t.Parallel: t.Setenv).
func TestServeFromEnv(t *testing.T) {
	dir := t.TempDir()
	org := livechat.NewUUID()
	for k, v := range map[string]string{
		"CHATBRIDGE_ADDR":            "127.0.0.1:0",
		"CHATBRIDGE_DATA_DIR":        dir,
		"CHATBRIDGE_ORGANIZATION_ID": org,
		"CHATBRIDGE_LICENSE_ID":      "12345678",
		"CHATBRIDGE_ADMIN_EMAIL":     adminEmail,
		"CHATBRIDGE_ADMIN_PASSWORD":  adminPassword,
		"CHATBRIDGE_ADMIN_TOKEN":     adminToken,
		"CHATBRIDGE_LOG_FORMAT":      "json",
		"CHATBRIDGE_LOG_LEVEL":       "debug",
	} {
		t.Setenv(k, v)
	}
	in := startServe(t)
	if !strings.HasPrefix(in.base, "http://127.0.0.1:") {
		t.Errorf("listening on %s, want 127.0.0.1 from CHATBRIDGE_ADDR", in.base)
	}
	info := in.info(t, "Bearer "+adminToken)
	if info["entity_id"] != adminEmail || info["organization_id"] != org {
		t.Errorf("/v2/info = %v, want entity %s in organization %s", info, adminEmail, org)
	}
	in.passwordGrant(t, adminEmail, adminPassword)

	// Debug-level JSON logs, with the license id of the env.
	var sawListening bool
	for _, line := range strings.Split(strings.TrimSpace(in.stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "chatbridge listening" {
			sawListening = true
			if rec["license_id"] != float64(12345678) {
				t.Errorf("license_id = %v, want 12345678", rec["license_id"])
			}
		}
	}
	if !sawListening {
		t.Errorf("no \"chatbridge listening\" record in the logs:\n%s", in.stderr)
	}
	in.stop(t)

	// The agent commands read CHATBRIDGE_DATA_DIR too.
	var agents []livechat.Agent
	if err := json.Unmarshal([]byte(mustRun(t, "agent", "list", "--json")), &agents); err != nil {
		t.Fatalf("agent list --json: %v", err)
	}
	if len(agents) != 1 || agents[0].ID != adminEmail {
		t.Errorf("agents in CHATBRIDGE_DATA_DIR = %+v, want only %s", agents, adminEmail)
	}

	// A flag beats its env var: another organization id is refused by the store.
	if _, err := runCLI(t, "--organization-id", livechat.NewUUID()); err == nil || !strings.Contains(err.Error(), org) {
		t.Errorf("a conflicting --organization-id gave %v, want an error naming %s", err, org)
	}
}

func TestConfigPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    func(*config) bool
		wantErr string
	}{
		{name: "defaults", want: func(c *config) bool {
			return c.Addr == ":8080" && c.DataDir == "./data" && c.MongoDB == "chatbridge" && c.LogLevel == "info" && c.LogFormat == "text"
		}},
		{name: "env", env: map[string]string{"CHATBRIDGE_ADDR": ":9090", "CHATBRIDGE_MONGO_DB": "x", "CHATBRIDGE_LICENSE_ID": "42"},
			want: func(c *config) bool { return c.Addr == ":9090" && c.MongoDB == "x" && c.LicenseID == 42 }},
		{name: "flag over env", env: map[string]string{"CHATBRIDGE_ADDR": ":9090", "CHATBRIDGE_LOG_FORMAT": "xml"},
			args: []string{"--addr", ":7070", "--log-format", "json"},
			want: func(c *config) bool { return c.Addr == ":7070" && c.LogFormat == "json" }},
		{name: "bad env log format", env: map[string]string{"CHATBRIDGE_LOG_FORMAT": "xml"}, wantErr: "--log-format"},
		{name: "bad env license", env: map[string]string{"CHATBRIDGE_LICENSE_ID": "abc"}, wantErr: "CHATBRIDGE_LICENSE_ID"},
		{name: "env token without email", env: map[string]string{"CHATBRIDGE_ADMIN_TOKEN": adminToken}, wantErr: "--admin-email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, _, err := parseConfig("serve", tc.args, io.Discard, nil)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("parseConfig: %v", err)
			case !tc.want(c):
				t.Errorf("config = %+v", c)
			}
		})
	}
}

func TestBadCommandLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"log format", []string{"--log-format", "xml"}, "--log-format"},
		{"log level", []string{"--log-level", "loud"}, "--log-level"},
		{"short admin token", []string{"--admin-email", adminEmail, "--admin-token", "short"}, "--admin-token"},
		{"admin password without email", []string{"--admin-password", adminPassword}, "--admin-email"},
		{"license id", []string{"--license-id", "abc"}, "license-id"},
		{"no data dir", []string{"--data-dir", ""}, "--data-dir"},
		{"public url", []string{"--public-url", "chat.example.com"}, "--public-url"},
		{"unknown flag", []string{"--no-such-flag"}, "no-such-flag"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"serve with bad flag", []string{"serve", "--log-format", "xml"}, "--log-format"},
		{"agent without subcommand", []string{"agent"}, "usage"},
		{"unknown agent command", []string{"agent", "frob"}, "unknown agent command"},
		{"agent bad flag", []string{"agent", "list", "--log-format", "xml"}, "--log-format"},
		{"agent flag of another subcommand", []string{"agent", "list", "--email", "x@y.test"}, "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error mentioning %q", tc.args, err, tc.want)
			}
		})
	}

	t.Run("help", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"help"}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "usage") {
			t.Errorf("help: %v, printed %q", err, stdout.String())
		}
		stdout.Reset()
		err := run(t.Context(), []string{"--help"}, &stdout, &stderr)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "CHATBRIDGE_ADDR") {
			t.Errorf("--help: %v, printed %q", err, stderr.String())
		}
	})
}
