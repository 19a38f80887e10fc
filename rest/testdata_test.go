package rest_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestCustomerAuthRecordedBody replays the exact body @livechat/customer-auth
// sends (as text/plain, from a browser origin) from testdata.
func TestCustomerAuthRecordedBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	raw, err := os.ReadFile("../testdata/customer_token_request.json")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ReplaceAll(string(raw), "ORGANIZATION_ID", e.svc.Organization().OrganizationID)
	r := e.do(t, request{method: http.MethodPost, path: "/v2/customer/token", contentType: "text/plain;charset=UTF-8", body: body, origin: widgetOrigin})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.object(t)
	for _, k := range []string{"access_token", "entity_id", "token_type", "organization_id"} {
		str(t, m, k)
	}
	wantCORS(t, r)
	e.wantInfo(t, "Bearer "+str(t, m, "access_token"), str(t, m, "entity_id"))
}
