package rest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// testPassword is the password of every agent the tests create.
const testPassword = "secret123"

// env is one server under test: the core on a throwaway embedded store,
// served over real HTTP.
type env struct {
	svc     *livechat.Service
	store   *mongostore.Store
	srv     *httptest.Server
	metrics *rest.Metrics
}

// newEnv starts a server; clock nil means the system clock.
func newEnv(t *testing.T, clock livechat.Clock) *env {
	t.Helper()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	metrics := rest.NewMetrics(hub)
	svc, err := livechat.NewService(t.Context(), livechat.Config{
		Store:        store,
		Publisher:    livechat.Publishers{metrics.Publisher(), hub},
		Clock:        clock,
		PasswordCost: bcrypt.MinCost,
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub, Metrics: metrics})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close) // runs before the store's cleanup: LIFO
	return &env{svc: svc, store: store, srv: srv, metrics: metrics}
}

// request is one HTTP request to the server under test.
type request struct {
	method      string
	path        string
	auth        string // Authorization header value
	contentType string
	body        string
	origin      string
	cookies     []*http.Cookie
}

// response is what came back.
type response struct {
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
}

func (e *env) do(t *testing.T, r request) response {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, e.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.origin != "" {
		req.Header.Set("Origin", r.origin)
	}
	for _, c := range r.cookies {
		req.AddCookie(c)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body, cookies: res.Cookies()}
}

// object decodes the body as one JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// str returns m[k] as a string, failing the test when it is not one or is empty.
func str(t *testing.T, m map[string]any, k string) string {
	t.Helper()
	s, ok := m[k].(string)
	if !ok || s == "" {
		t.Fatalf("%q = %#v, want a non-empty string (in %v)", k, m[k], m)
	}
	return s
}

// wantError checks LiveChat's error envelope {"error":{"type","message"}}.
func wantError(t *testing.T, r response, status int, typ string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var b rest.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, r.body)
	}
	if b.Error.Type != typ || b.Error.Message == "" {
		t.Errorf("error = %+v, want type %q and a message", b.Error, typ)
	}
}

// wantOAuth checks an accounts-style error: {kind: code, "exception_description": ...}
// where kind is oauth_exception or identity_exception.
func wantOAuth(t *testing.T, r response, status int, kind, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	m := r.object(t)
	if m[kind] != code {
		t.Errorf("%s = %#v, want %q (body %s)", kind, m[kind], code, r.body)
	}
	if d, _ := m["exception_description"].(string); d == "" {
		t.Errorf("exception_description missing: %s", r.body)
	}
}

// createAgent makes a normal agent with testPassword.
func (e *env) createAgent(t *testing.T, email string) *livechat.Agent {
	t.Helper()
	a, err := e.svc.CreateAgent(t.Context(), livechat.System(), livechat.AgentInput{Email: email, Password: testPassword})
	if err != nil {
		t.Fatalf("CreateAgent %s: %v", email, err)
	}
	return a
}

// passwordGrant signs an agent in and returns the token response.
func (e *env) passwordGrant(t *testing.T, login, password string) map[string]any {
	t.Helper()
	r := e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: "application/x-www-form-urlencoded",
		body: url.Values{"grant_type": {"password"}, "username": {login}, "password": {password}}.Encode()})
	if r.status != http.StatusOK {
		t.Fatalf("password grant for %s: status %d: %s", login, r.status, r.body)
	}
	return r.object(t)
}

// info calls GET /v2/info with auth and returns the status and body.
func (e *env) info(t *testing.T, auth string) response {
	t.Helper()
	return e.do(t, request{path: "/v2/info", auth: auth})
}

// wantInfo checks that auth authenticates as entityID.
func (e *env) wantInfo(t *testing.T, auth, entityID string) map[string]any {
	t.Helper()
	r := e.info(t, auth)
	if r.status != http.StatusOK {
		t.Fatalf("/v2/info: status %d, want 200: %s", r.status, r.body)
	}
	m := r.object(t)
	if m["entity_id"] != entityID {
		t.Errorf("/v2/info entity_id = %#v, want %q", m["entity_id"], entityID)
	}
	if m["organization_id"] != e.svc.Organization().OrganizationID {
		t.Errorf("/v2/info organization_id = %#v, want %q", m["organization_id"], e.svc.Organization().OrganizationID)
	}
	return m
}

func basic(accountID, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(accountID+":"+token))
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	r := e.do(t, request{path: "/healthz"})
	if r.status != http.StatusOK || r.object(t)["status"] != "ok" {
		t.Errorf("/healthz = %d %s, want 200 {\"status\":\"ok\"}", r.status, r.body)
	}
	r = e.do(t, request{path: "/readyz"})
	if r.status != http.StatusOK || r.object(t)["status"] != "ready" {
		t.Errorf("/readyz = %d %s, want 200 {\"status\":\"ready\"}", r.status, r.body)
	}

	if err := e.store.Close(t.Context()); err != nil {
		t.Fatalf("close store: %v", err)
	}
	wantError(t, e.do(t, request{path: "/readyz"}), http.StatusServiceUnavailable, livechat.TypeServiceUnavailable)
	r = e.do(t, request{path: "/healthz"})
	if r.status != http.StatusOK {
		t.Errorf("/healthz after store close = %d, want 200 (liveness does not depend on the store)", r.status)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.createAgent(t, "metrics@example.test") // emits agent_created
	e.do(t, request{path: "/healthz"})

	r := e.do(t, request{path: "/metrics"})
	if r.status != http.StatusOK {
		t.Fatalf("/metrics = %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want Prometheus text", ct)
	}
	for _, want := range []string{
		"# TYPE chatbridge_http_requests_total counter",
		`chatbridge_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		"# TYPE chatbridge_domain_events_total counter",
		`chatbridge_domain_events_total{kind="agent_created"} 1`,
		"chatbridge_hub_sessions 0",
		"go_goroutines",
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestMetricsErrorStatus checks that failed requests are counted under the
// status they were answered with, not 200.
func TestMetricsErrorStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	wantError(t, e.info(t, "Bearer nope"), http.StatusUnauthorized, livechat.TypeAuthentication)
	r := e.do(t, request{path: "/metrics"})
	body := string(r.body)
	if !strings.Contains(body, `chatbridge_errors_total{type="authentication"} 1`) {
		t.Errorf("/metrics lacks the authentication error count")
	}
	want := `chatbridge_http_requests_total{method="GET",route="/v2/info",status="401"} 1`
	if !strings.Contains(body, want) {
		var got []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, `chatbridge_http_requests_total{method="GET",route="/v2/info"`) {
				got = append(got, l)
			}
		}
		t.Errorf("want %q, got %q", want, got)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, r := range []request{
		{path: "/no/such/route"},
		{method: http.MethodPost, path: "/v3.5/no/such/api", contentType: "application/json", body: "{}"},
	} {
		t.Run(r.method+r.path, func(t *testing.T) {
			wantError(t, e.do(t, r), http.StatusNotFound, livechat.TypeNotFound)
		})
	}
}

func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.createAgent(t, "jane@example.test")
	org := e.svc.Organization().OrganizationID

	for _, tc := range []struct {
		name, contentType, body string
	}{
		{"form", "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"password"}, "username": {a.Email}, "password": {testPassword}, "client_id": {"c1"}}.Encode()},
		{"json", "application/json",
			`{"grant_type":"password","username":"jane@example.test","password":"secret123","client_id":"c1"}`},
		{"json as text/plain", "text/plain", `{"grant_type":"password","username":"JANE@example.test","password":"secret123"}`},
		{"username login", "application/json", `{"grant_type":"password","username":"jane.example.test","password":"secret123"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: tc.contentType, body: tc.body})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			m := r.object(t)
			access := str(t, m, "access_token")
			str(t, m, "refresh_token")
			if m["token_type"] != "Bearer" || m["account_id"] != a.AccountID || m["organization_id"] != org {
				t.Errorf("token response = %v, want token_type Bearer, account_id %s, organization_id %s", m, a.AccountID, org)
			}
			if m["expires_in"] != float64(8*3600) {
				t.Errorf("expires_in = %v, want %d", m["expires_in"], 8*3600)
			}
			info := e.wantInfo(t, "Bearer "+access, a.ID)
			if info["account_id"] != a.AccountID {
				t.Errorf("/v2/info account_id = %v, want %s", info["account_id"], a.AccountID)
			}
			if n, _ := info["expires_in"].(float64); n < 8*3600-60 || n > 8*3600 {
				t.Errorf("/v2/info expires_in = %v, want about 8 h", info["expires_in"])
			}
			// The bare token and ?code= work as well.
			e.wantInfo(t, access, a.ID)
			if r := e.do(t, request{path: "/v2/info?code=" + url.QueryEscape(access)}); r.status != http.StatusOK {
				t.Errorf("/v2/info?code= = %d: %s", r.status, r.body)
			}
		})
	}
}

func TestPasswordGrantErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.createAgent(t, "jane@example.test")
	if _, err := e.svc.CreateAgent(t.Context(), livechat.System(), livechat.AgentInput{Email: "nopass@example.test"}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"wrong password", "application/json", `{"grant_type":"password","username":"jane@example.test","password":"wrong-one"}`,
			http.StatusUnauthorized, "invalid_grant"},
		{"unknown user", "application/json", `{"grant_type":"password","username":"nobody@example.test","password":"secret123"}`,
			http.StatusUnauthorized, "invalid_grant"},
		{"agent without password", "application/x-www-form-urlencoded", "grant_type=password&username=nopass%40example.test&password=secret123",
			http.StatusUnauthorized, "invalid_grant"},
		{"missing password", "application/json", `{"grant_type":"password","username":"jane@example.test"}`,
			http.StatusBadRequest, "invalid_request"},
		{"missing grant_type", "application/json", `{"username":"jane@example.test","password":"secret123"}`,
			http.StatusBadRequest, "invalid_request"},
		{"empty body", "application/json", "", http.StatusBadRequest, "invalid_request"},
		{"unsupported grant", "application/x-www-form-urlencoded", "grant_type=client_credentials",
			http.StatusBadRequest, "unsupported_grant_type"},
		{"malformed JSON", "application/json", `{"grant_type":`, http.StatusBadRequest, "invalid_request"},
		{"malformed form", "application/x-www-form-urlencoded", "grant_type=%zz", http.StatusBadRequest, "invalid_request"},
		{"missing refresh token", "application/json", `{"grant_type":"refresh_token"}`, http.StatusBadRequest, "invalid_request"},
		{"unknown refresh token", "application/json", `{"grant_type":"refresh_token","refresh_token":"nope"}`,
			http.StatusUnauthorized, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: tc.contentType, body: tc.body})
			wantOAuth(t, r, tc.status, "oauth_exception", tc.code)
		})
	}
}

func TestRefreshGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.createAgent(t, "jane@example.test")
	first := e.passwordGrant(t, a.Email, testPassword)
	oldAccess, oldRefresh := str(t, first, "access_token"), str(t, first, "refresh_token")

	refresh := func(rt string) response {
		return e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()})
	}
	r := refresh(oldRefresh)
	if r.status != http.StatusOK {
		t.Fatalf("refresh grant: %d %s", r.status, r.body)
	}
	second := r.object(t)
	newAccess, newRefresh := str(t, second, "access_token"), str(t, second, "refresh_token")
	if newAccess == oldAccess || newRefresh == oldRefresh {
		t.Fatalf("refresh grant returned the old pair")
	}
	if second["account_id"] != a.AccountID || second["token_type"] != "Bearer" {
		t.Errorf("refresh response = %v", second)
	}
	e.wantInfo(t, "Bearer "+newAccess, a.ID)

	wantOAuth(t, refresh(oldRefresh), http.StatusUnauthorized, "oauth_exception", "invalid_grant")
	wantError(t, e.info(t, "Bearer "+oldAccess), http.StatusUnauthorized, livechat.TypeAuthentication)
	// A refresh token is not an access token, nor the reverse.
	wantError(t, e.info(t, "Bearer "+newRefresh), http.StatusUnauthorized, livechat.TypeAuthentication)
	wantOAuth(t, refresh(newAccess), http.StatusUnauthorized, "oauth_exception", "invalid_grant")
	// The new pair still trades.
	if r := refresh(newRefresh); r.status != http.StatusOK {
		t.Errorf("second refresh: %d %s", r.status, r.body)
	}
}

func TestPersonalAccessToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	jane := e.createAgent(t, "jane@example.test")
	bob := e.createAgent(t, "bob@example.test")
	secret, got, err := e.svc.CreatePersonalAccessToken(t.Context(), livechat.System(), jane.ID, "test", 0)
	if err != nil {
		t.Fatalf("CreatePersonalAccessToken: %v", err)
	}
	if got.AccountID != jane.AccountID {
		t.Fatalf("token agent = %s, want %s", got.AccountID, jane.AccountID)
	}

	t.Run("valid", func(t *testing.T) {
		info := e.wantInfo(t, basic(jane.AccountID, secret), jane.ID)
		if info["account_id"] != jane.AccountID {
			t.Errorf("account_id = %v, want %s", info["account_id"], jane.AccountID)
		}
		if _, ok := info["expires_in"]; ok {
			t.Errorf("a never-expiring token has expires_in %v", info["expires_in"])
		}
		e.wantInfo(t, basic(jane.ID, secret), jane.ID) // the e-mail names the account too
		e.wantInfo(t, "basic "+strings.TrimPrefix(basic(jane.AccountID, secret), "Basic "), jane.ID)
	})

	t.Run("expiring token reports expires_in", func(t *testing.T) {
		secret, _, err := e.svc.CreatePersonalAccessToken(t.Context(), livechat.System(), jane.ID, "1h", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		info := e.wantInfo(t, basic(jane.AccountID, secret), jane.ID)
		n, ok := info["expires_in"].(float64)
		if !ok {
			t.Errorf("no expires_in in %v", info)
		}
		if n <= 0 || n > 3600 {
			t.Errorf("expires_in = %v, want about 3600", n)
		}
	})

	for _, tc := range []struct{ name, auth string }{
		{"another agent's account", basic(bob.AccountID, secret)},
		{"another agent's e-mail", basic(bob.ID, secret)},
		{"wrong secret", basic(jane.AccountID, secret+"x")},
		{"as Bearer", "Bearer " + secret},
		{"bare", secret},
		{"not base64", "Basic %%%not-base64%%%"},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon-here"))},
		{"empty pair", "Basic " + base64.StdEncoding.EncodeToString([]byte(":"))},
		{"empty Basic", "Basic "},
		{"Basic alone", "Basic"},
		{"binary", "Basic " + base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, ':', 0xfe, 0x01})},
		{"huge", basic(jane.AccountID, strings.Repeat("a", 4096))},
		{"unknown scheme", "Digest " + secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.info(t, tc.auth), http.StatusUnauthorized, livechat.TypeAuthentication)
		})
	}
}

func TestExpiredAndRevokedTokens(t *testing.T) {
	t.Parallel()
	clock := livechat.NewFakeClock(time.Now())
	e := newEnv(t, clock)
	a := e.createAgent(t, "jane@example.test")

	t.Run("expired", func(t *testing.T) {
		tok := e.passwordGrant(t, a.Email, testPassword)
		access := "Bearer " + str(t, tok, "access_token")
		e.wantInfo(t, access, a.ID)
		clock.Advance(8*time.Hour + time.Second) // AgentTokenTTL's default
		wantError(t, e.info(t, access), http.StatusUnauthorized, livechat.TypeAuthentication)
		// The refresh token lives longer and still trades.
		r := e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: "application/json",
			body: jsonBody(t, map[string]string{"grant_type": "refresh_token", "refresh_token": str(t, tok, "refresh_token")})})
		if r.status != http.StatusOK {
			t.Fatalf("refresh after access expiry: %d %s", r.status, r.body)
		}
		e.wantInfo(t, "Bearer "+str(t, r.object(t), "access_token"), a.ID)
	})

	t.Run("expires_in follows the core clock", func(t *testing.T) {
		tok := e.passwordGrant(t, a.Email, testPassword)
		clock.Advance(7 * time.Hour)
		info := e.wantInfo(t, "Bearer "+str(t, tok, "access_token"), a.ID)
		if n, _ := info["expires_in"].(float64); n > 3600 {
			t.Errorf("expires_in = %v, want <= 3600", n)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		tok := e.passwordGrant(t, a.Email, testPassword)
		access := "Bearer " + str(t, tok, "access_token")
		e.wantInfo(t, access, a.ID)
		r := e.do(t, request{method: http.MethodDelete, path: "/v2/token", auth: access})
		if r.status != http.StatusOK {
			t.Fatalf("DELETE /v2/token: %d %s", r.status, r.body)
		}
		wantError(t, e.info(t, access), http.StatusUnauthorized, livechat.TypeAuthentication)
		wantError(t, e.do(t, request{method: http.MethodDelete, path: "/v2/token", auth: access}),
			http.StatusUnauthorized, livechat.TypeAuthentication)
		// Revoking the access token revokes the refresh token issued with it.
		r = e.do(t, request{method: http.MethodPost, path: "/v2/token", contentType: "application/json",
			body: jsonBody(t, map[string]string{"grant_type": "refresh_token", "refresh_token": str(t, tok, "refresh_token")})})
		wantOAuth(t, r, http.StatusUnauthorized, "oauth_exception", "invalid_grant")
	})

	t.Run("revoked by code", func(t *testing.T) {
		tok := e.passwordGrant(t, a.Email, testPassword)
		access := str(t, tok, "access_token")
		r := e.do(t, request{method: http.MethodDelete, path: "/v2/token?code=" + url.QueryEscape(access)})
		if r.status != http.StatusOK {
			t.Fatalf("DELETE /v2/token?code=: %d %s", r.status, r.body)
		}
		wantError(t, e.info(t, "Bearer "+access), http.StatusUnauthorized, livechat.TypeAuthentication)
	})

	t.Run("revoke without token", func(t *testing.T) {
		wantError(t, e.do(t, request{method: http.MethodDelete, path: "/v2/token"}), http.StatusUnauthorized, livechat.TypeAuthentication)
	})
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const (
		email = "boss@example.test"
		token = "0123456789abcdef0123456789abcdef"
	)
	owner, err := e.svc.EnsureOwner(t.Context(), email, testPassword, token)
	if err != nil {
		t.Fatalf("EnsureOwner: %v", err)
	}
	if owner.ID != email || owner.Role != livechat.RoleOwner {
		t.Fatalf("owner = %s role %s", owner.ID, owner.Role)
	}
	info := e.wantInfo(t, "Bearer "+token, email)
	if info["account_id"] != owner.AccountID {
		t.Errorf("account_id = %v, want %s", info["account_id"], owner.AccountID)
	}
	if _, ok := info["expires_in"]; ok {
		t.Errorf("the admin token has expires_in %v; it never expires", info["expires_in"])
	}

	again, err := e.svc.EnsureOwner(t.Context(), "  BOSS@example.test ", testPassword, token)
	if err != nil {
		t.Fatalf("EnsureOwner again: %v", err)
	}
	if again.ID != owner.ID || again.AccountID != owner.AccountID {
		t.Errorf("EnsureOwner again gave %s/%s, want %s/%s", again.ID, again.AccountID, owner.ID, owner.AccountID)
	}
	agents, err := e.svc.ListAgents(t.Context(), livechat.System())
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 {
		t.Errorf("%d agents after two EnsureOwner calls, want 1", len(agents))
	}
	e.wantInfo(t, "Bearer "+token, email)
	e.passwordGrant(t, email, testPassword)

	wantError(t, e.info(t, "Bearer "+token[:31]+"X"), http.StatusUnauthorized, livechat.TypeAuthentication)

	t.Run("promotes an existing agent and changes its password", func(t *testing.T) {
		a := e.createAgent(t, "deputy@example.test")
		const token2 = "fedcba9876543210fedcba9876543210"
		got, err := e.svc.EnsureOwner(t.Context(), a.Email, "another-pass", token2)
		if err != nil {
			t.Fatalf("EnsureOwner: %v", err)
		}
		if got.Role != livechat.RoleOwner || got.AccountID != a.AccountID {
			t.Errorf("got role %s account %s, want owner %s", got.Role, got.AccountID, a.AccountID)
		}
		e.wantInfo(t, "Bearer "+token2, a.ID)
		e.passwordGrant(t, a.Email, "another-pass")
	})
}

// customerRequest is the JSON body @livechat/customer-auth sends.
func (e *env) customerRequest(grant string) map[string]any {
	return map[string]any{
		"grant_type":      grant,
		"client_id":       "widget-client",
		"organization_id": e.svc.Organization().OrganizationID,
		"response_type":   "token",
		"redirect_uri":    "https://shop.example.test/",
	}
}

const widgetOrigin = "https://shop.example.test"

// customerToken posts body as text/plain from the widget origin.
func (e *env) customerToken(t *testing.T, path string, body map[string]any, auth string, cookies ...*http.Cookie) response {
	t.Helper()
	return e.do(t, request{method: http.MethodPost, path: path, contentType: "text/plain;charset=UTF-8",
		body: jsonBody(t, body), origin: widgetOrigin, auth: auth, cookies: cookies})
}

func wantCORS(t *testing.T, r response) {
	t.Helper()
	if got := r.header.Get("Access-Control-Allow-Origin"); got != widgetOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, widgetOrigin)
	}
	if got := r.header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("Access-Control-Allow-Credentials = %q, want true", got)
	}
}

// identityCookies returns the __lc_cid and __lc_cst cookies of r.
func identityCookies(t *testing.T, r response) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, c := range r.cookies {
		if c.Name == "__lc_cid" || c.Name == "__lc_cst" {
			if !c.HttpOnly || c.Path != "/v2/customer" || c.MaxAge <= 0 {
				t.Errorf("cookie %s: HttpOnly %v, Path %q, MaxAge %d", c.Name, c.HttpOnly, c.Path, c.MaxAge)
			}
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if len(out) != 2 {
		t.Fatalf("got cookies %v, want __lc_cid and __lc_cst", r.cookies)
	}
	return out
}

func TestCustomerCookieGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	org := e.svc.Organization().OrganizationID

	r := e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), "")
	if r.status != http.StatusOK {
		t.Fatalf("cookie grant: %d %s", r.status, r.body)
	}
	wantCORS(t, r)
	m := r.object(t)
	access, entity := str(t, m, "access_token"), str(t, m, "entity_id")
	if m["token_type"] != "Bearer" || m["organization_id"] != org || m["expires_in"] != float64(8*3600) {
		t.Errorf("customer token = %v", m)
	}
	cookies := identityCookies(t, r)
	for _, c := range cookies {
		if c.Name == "__lc_cid" && c.Value != entity {
			t.Errorf("__lc_cid = %q, want the entity id %q", c.Value, entity)
		}
	}

	t.Run("token works at /v2/info", func(t *testing.T) {
		info := e.wantInfo(t, "Bearer "+access, entity)
		if _, ok := info["account_id"]; ok {
			t.Errorf("a customer token has account_id %v", info["account_id"])
		}
		if info["client_id"] != "widget-client" {
			t.Errorf("client_id = %v, want widget-client", info["client_id"])
		}
	})

	t.Run("returning customer keeps its identity", func(t *testing.T) {
		r := e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), "", cookies...)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		m := r.object(t)
		if m["entity_id"] != entity {
			t.Errorf("entity_id = %v, want %s", m["entity_id"], entity)
		}
		if m["access_token"] == access {
			t.Errorf("the same access token was issued twice")
		}
		e.wantInfo(t, "Bearer "+str(t, m, "access_token"), entity)
		e.wantInfo(t, "Bearer "+access, entity) // the first token still works
	})

	t.Run("no cookies means a new customer", func(t *testing.T) {
		r := e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), "")
		if got := str(t, r.object(t), "entity_id"); got == entity {
			t.Errorf("a request without cookies got the existing identity %s", got)
		}
	})

	t.Run("forged cookie secret means a new customer", func(t *testing.T) {
		forged := []*http.Cookie{{Name: "__lc_cid", Value: entity}, {Name: "__lc_cst", Value: "forged"}}
		r := e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), "", forged...)
		if got := str(t, r.object(t), "entity_id"); got == entity {
			t.Errorf("a forged cookie secret got the existing identity %s", got)
		}
	})

	t.Run("another customer's cookie secret is refused", func(t *testing.T) {
		other := identityCookies(t, e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), ""))
		var secret string
		for _, c := range other {
			if c.Name == "__lc_cst" {
				secret = c.Value
			}
		}
		mixed := []*http.Cookie{{Name: "__lc_cid", Value: entity}, {Name: "__lc_cst", Value: secret}}
		r := e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), "", mixed...)
		if got := str(t, r.object(t), "entity_id"); got == entity {
			t.Errorf("another customer's secret got identity %s", got)
		}
	})

	t.Run("form body", func(t *testing.T) {
		v := url.Values{"grant_type": {"cookie"}, "client_id": {"widget-client"}, "organization_id": {org}, "response_type": {"token"}}
		r := e.do(t, request{method: http.MethodPost, path: "/v2/customer/token", contentType: "application/x-www-form-urlencoded", body: v.Encode()})
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})

	t.Run("per-group path", func(t *testing.T) {
		body := e.customerRequest("cookie")
		delete(body, "organization_id")
		r := e.customerToken(t, "/v2/customer/"+org+"/0/token", body, "")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		wantCORS(t, r)
		e.wantInfo(t, "Bearer "+str(t, r.object(t), "access_token"), str(t, r.object(t), "entity_id"))
	})
}

func TestCustomerTokenPreflight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	org := e.svc.Organization().OrganizationID
	for _, path := range []string{"/v2/customer/token", "/v2/customer/" + org + "/0/token"} {
		t.Run(path, func(t *testing.T) {
			r := e.do(t, request{method: http.MethodOptions, path: path, origin: widgetOrigin})
			if r.status != http.StatusNoContent {
				t.Fatalf("OPTIONS %s = %d, want 204", path, r.status)
			}
			wantCORS(t, r)
			if m := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
				t.Errorf("Access-Control-Allow-Methods = %q", m)
			}
			if h := r.header.Get("Access-Control-Allow-Headers"); !strings.Contains(h, "Content-Type") {
				t.Errorf("Access-Control-Allow-Headers = %q", h)
			}
		})
	}
	t.Run("no Origin, no CORS headers", func(t *testing.T) {
		r := e.do(t, request{method: http.MethodOptions, path: "/v2/customer/token"})
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin = %q without an Origin", got)
		}
	})
}

func TestCustomerTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	org := e.svc.Organization().OrganizationID
	with := func(grant string, change func(map[string]any)) string {
		m := e.customerRequest(grant)
		change(m)
		return jsonBody(t, m)
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		kind, code       string
	}{
		{"not JSON", "/v2/customer/token", "grant_type=cookie, please",
			http.StatusBadRequest, "oauth_exception", "invalid_request"},
		{"JSON array", "/v2/customer/token", "[1,2]",
			http.StatusBadRequest, "oauth_exception", "invalid_request"},
		{"missing client_id", "/v2/customer/token", with("cookie", func(m map[string]any) { delete(m, "client_id") }),
			http.StatusBadRequest, "oauth_exception", "invalid_request"},
		{"missing organization_id", "/v2/customer/token", with("cookie", func(m map[string]any) { delete(m, "organization_id") }),
			http.StatusBadRequest, "oauth_exception", "invalid_request"},
		{"missing grant_type", "/v2/customer/token", with("cookie", func(m map[string]any) { delete(m, "grant_type") }),
			http.StatusBadRequest, "oauth_exception", "invalid_request"},
		{"wrong organization_id", "/v2/customer/token", with("cookie", func(m map[string]any) { m["organization_id"] = livechat.NewUUID() }),
			http.StatusNotFound, "identity_exception", "resource_not_found"},
		{"unsupported grant_type", "/v2/customer/token", with("password", func(map[string]any) {}),
			http.StatusBadRequest, "oauth_exception", "unsupported_grant_type"},
		{"unsupported response_type", "/v2/customer/token", with("cookie", func(m map[string]any) { m["response_type"] = "code" }),
			http.StatusBadRequest, "oauth_exception", "unsupported_response_type"},
		{"unknown group", "/v2/customer/" + org + "/999/token", with("cookie", func(map[string]any) {}),
			http.StatusNotFound, "identity_exception", "resource_not_found"},
		{"group not a number", "/v2/customer/" + org + "/abc/token", with("cookie", func(map[string]any) {}),
			http.StatusBadRequest, "oauth_exception", "invalid_request"},
		{"wrong organization in path", "/v2/customer/" + livechat.NewUUID() + "/0/token", with("cookie", func(map[string]any) {}),
			http.StatusNotFound, "identity_exception", "resource_not_found"},
		{"agent_token without a token", "/v2/customer/token", with("agent_token", func(map[string]any) {}),
			http.StatusUnauthorized, "oauth_exception", "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, request{method: http.MethodPost, path: tc.path, contentType: "text/plain", body: tc.body, origin: widgetOrigin})
			wantOAuth(t, r, tc.status, tc.kind, tc.code)
			wantCORS(t, r) // browsers can read the error only with CORS headers
		})
	}
}

func TestCustomerAgentTokenGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.createAgent(t, "jane@example.test")
	agentAccess := "Bearer " + str(t, e.passwordGrant(t, a.Email, testPassword), "access_token")

	r := e.customerToken(t, "/v2/customer/token", e.customerRequest("cookie"), "")
	customer := r.object(t)
	entity := str(t, customer, "entity_id")
	customerAccess := "Bearer " + str(t, customer, "access_token")

	t.Run("existing customer", func(t *testing.T) {
		body := e.customerRequest("agent_token")
		body["entity_id"] = entity
		r := e.customerToken(t, "/v2/customer/token", body, agentAccess)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		m := r.object(t)
		if m["entity_id"] != entity || m["client_id"] != "widget-client" {
			t.Errorf("agent_token answer = %v, want entity_id %s and client_id", m, entity)
		}
		for _, c := range r.cookies {
			if c.Name == "__lc_cst" {
				t.Errorf("agent_token grant set the customer's cookie secret")
			}
		}
		e.wantInfo(t, "Bearer "+str(t, m, "access_token"), entity)
	})

	t.Run("new customer", func(t *testing.T) {
		r := e.customerToken(t, "/v2/customer/token", e.customerRequest("agent_token"), agentAccess)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if got := str(t, r.object(t), "entity_id"); got == entity {
			t.Errorf("agent_token without entity_id reused %s", got)
		}
	})

	t.Run("personal access token", func(t *testing.T) {
		secret, _, err := e.svc.CreatePersonalAccessToken(t.Context(), livechat.System(), a.ID, "backend", 0)
		if err != nil {
			t.Fatal(err)
		}
		body := e.customerRequest("agent_token")
		body["entity_id"] = entity
		r := e.customerToken(t, "/v2/customer/token", body, basic(a.AccountID, secret))
		if r.status != http.StatusOK || r.object(t)["entity_id"] != entity {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})

	for _, tc := range []struct {
		name, auth, entity string
		status             int
		kind, code         string
	}{
		{"invalid agent token", "Bearer dal:nope", entity, http.StatusUnauthorized, "oauth_exception", "unauthorized_client"},
		{"customer token", customerAccess, entity, http.StatusUnauthorized, "oauth_exception", "unauthorized_client"},
		{"unknown customer", agentAccess, livechat.NewUUID(), http.StatusNotFound, "identity_exception", "resource_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := e.customerRequest("agent_token")
			body["entity_id"] = tc.entity
			wantOAuth(t, e.customerToken(t, "/v2/customer/token", body, tc.auth), tc.status, tc.kind, tc.code)
		})
	}
}
