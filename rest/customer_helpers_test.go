package rest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// newCustomerEnv starts a server whose core config the test may adjust
// (uploads on, MaxCustomerChats, …).
func newCustomerEnv(t *testing.T, tune func(*livechat.Config)) *env {
	t.Helper()
	store := storetest.Open(t)
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	files, err := livechat.NewDirFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := livechat.Config{Store: store, Publisher: hub, PasswordCost: bcrypt.MinCost, Files: files}
	if tune != nil {
		tune(&cfg)
	}
	svc, err := livechat.NewService(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, Hub: hub})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{svc: svc, store: store, srv: srv}
}

// customer is a customer identity from POST /v2/customer/token.
type customer struct {
	id, token string // token is the bare access token
}

func (c customer) bearer() string { return "Bearer " + c.token }

func (e *env) org() string { return e.svc.Organization().OrganizationID }

// newCustomer asks the token endpoint for a new customer, as a widget does.
func (e *env) newCustomer(t *testing.T) customer {
	t.Helper()
	r := e.do(t, request{method: http.MethodPost, path: "/v2/customer/token", contentType: "text/plain;charset=UTF-8",
		body: jsonBody(t, map[string]any{"grant_type": "cookie", "response_type": "token", "client_id": "widget", "organization_id": e.org()})})
	if r.status != http.StatusOK {
		t.Fatalf("customer token: %d %s", r.status, r.body)
	}
	m := r.object(t)
	return customer{id: str(t, m, "entity_id"), token: str(t, m, "access_token")}
}

// customerAction calls the Customer Web API (POST, organization_id in the query).
func (e *env) customerAction(t *testing.T, auth, version, method string, payload any) response {
	t.Helper()
	body := "{}"
	if payload != nil {
		b, _ := json.Marshal(payload)
		body = string(b)
	}
	return e.do(t, request{method: http.MethodPost, path: "/v" + version + "/customer/action/" + method + "?organization_id=" + url.QueryEscape(e.org()),
		auth: auth, contentType: "application/json", body: body})
}

// dialCustomer opens a Customer RTM socket with the given query string.
func (e *env) dialCustomer(t *testing.T, version, query string) *rtmClient {
	t.Helper()
	path := "/v" + version + "/customer/rtm/ws"
	if query != "" {
		path += "?" + query
	}
	return e.dialRTMPath(t, path, 512)
}

// loginCustomer opens a 3.5 Customer RTM socket and logs cu in.
func (e *env) loginCustomer(t *testing.T, cu customer) (*rtmClient, map[string]any) {
	t.Helper()
	rc := e.dialCustomer(t, "3.5", "organization_id="+url.QueryEscape(e.org()))
	login := rc.call("login", map[string]any{"token": cu.bearer(), "customer": map[string]any{}, "customer_side_storage": map[string]any{},
		"is_mobile": false, "application": map[string]any{"name": "test", "version": "1"}})
	return rc, login
}

// pushesUntilPing sends a ping and returns the pushes read before its answer.
func (rc *rtmClient) pushesUntilPing() []map[string]any {
	rc.t.Helper()
	id := rc.send("ping", nil)
	var out []map[string]any
	rc.next("ping answer", func(f map[string]any) bool {
		if f["type"] == "push" {
			out = append(out, f)
		}
		return f["type"] == "response" && f["request_id"] == id
	})
	return out
}

// onlyPushes fails if any push but the allowed ones arrived.
func (rc *rtmClient) onlyPushes(what string, allowed ...string) {
	rc.t.Helper()
	for _, p := range rc.pushesUntilPing() {
		if !slices.Contains(allowed, p["action"].(string)) {
			rc.t.Fatalf("%s: unexpected push %v", what, p)
		}
	}
}

// closedWith waits for customer_disconnected with reason, then the close.
func (rc *rtmClient) closedWith(reason string) {
	rc.t.Helper()
	p := rc.push("customer_disconnected")
	if got := payload(p)["reason"]; got != reason {
		rc.t.Fatalf("customer_disconnected reason %v, want %s", got, reason)
	}
	deadline := time.After(10 * time.Second)
	for { // drained until the server closes the socket
		select {
		case _, open := <-rc.frames:
			if !open {
				return
			}
		case <-deadline:
			rc.t.Fatalf("socket still open 10 s after customer_disconnected %s", reason)
		}
	}
}
