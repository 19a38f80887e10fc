package rest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// TestRocketChatCORS: browsers on other origins may call /api (preflight
// and answers carry the CORS headers, without credentials), limited to
// --allowed-origins when set; other paths are not affected.
func TestRocketChatCORS(t *testing.T) {
	t.Parallel()
	serve := func(allowed []string) string {
		store := storetest.Open(t)
		svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, PasswordCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		s, err := rest.NewServer(rest.Config{Service: svc, Store: store, AllowedOrigins: allowed})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		return srv.URL
	}
	do := func(method, url, origin string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	open := serve(nil)
	res := do(http.MethodOptions, open+"/api/v1/livechat/message", "https://shop.example")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		res.Header.Get("Access-Control-Allow-Credentials") != "" || res.Header.Get("Access-Control-Allow-Headers") == "" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	if res := do(http.MethodGet, open+"/api/info", "https://shop.example"); res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("GET /api/info: %d %v", res.StatusCode, res.Header)
	}
	if res := do(http.MethodGet, open+"/healthz", "https://shop.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("/healthz got CORS headers: %v", res.Header)
	}

	limited := serve([]string{"https://shop.example"})
	if res := do(http.MethodOptions, limited+"/api/v1/login", "https://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a foreign origin was allowed: %v", res.Header)
	}
	if res := do(http.MethodOptions, limited+"/api/v1/login", "https://shop.example"); res.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("the allowed origin was refused: %v", res.Header)
	}
}
