package rest_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestCustomerWebAPI(t *testing.T) {
	t.Parallel()
	e := newCustomerEnv(t, nil)
	cu := e.newCustomer(t)
	org := url.QueryEscape(e.org())
	agent := e.agentBearer(t, "ann@example.com")

	// The tenant: required, and this server's; license_id is 3.3's name.
	wantError(t, e.do(t, request{method: http.MethodPost, path: "/v3.5/customer/action/get_customer", auth: cu.bearer(), body: "{}"}), 400, "validation")
	wantError(t, e.do(t, request{method: http.MethodPost, path: "/v3.5/customer/action/get_customer?organization_id=nope", auth: cu.bearer(), body: "{}"}), 404, "license_not_found")
	lic := strconv.FormatInt(e.svc.Organization().LicenseID, 10)
	if r := e.do(t, request{method: http.MethodPost, path: "/v3.3/customer/action/get_customer?license_id=" + lic, auth: cu.bearer(), body: "{}"}); r.status != 200 {
		t.Fatalf("3.3 with license_id: %d %s", r.status, r.body)
	}
	// Customer tokens only.
	wantError(t, e.customerAction(t, agent, "3.5", "get_customer", nil), 401, "authentication")
	wantError(t, e.customerAction(t, "", "3.5", "get_customer", nil), 401, "authentication")
	wantError(t, e.customerAction(t, "Bearer nope", "3.5", "get_customer", nil), 401, "authentication")
	wantError(t, e.customerAction(t, cu.bearer(), "9.9", "get_customer", nil), 400, "unsupported_version")
	wantError(t, e.customerAction(t, cu.bearer(), "3.5", "no_such_method", nil), 400, "validation")
	// RTM-only methods are not on the Web API; GET only for the read-only ones.
	wantError(t, e.customerAction(t, cu.bearer(), "3.5", "update_customer_page", map[string]any{"url": "https://x.example.com/"}), 400, "validation")
	wantError(t, e.customerAction(t, cu.bearer(), "3.5", "login", map[string]any{"token": cu.bearer()}), 400, "validation")
	wantError(t, e.do(t, request{path: "/v3.5/customer/action/start_chat?organization_id=" + org, auth: cu.bearer()}), 405, "not_found")

	// The widget's configuration calls, with GET and the payload in the query, and no token.
	r := e.do(t, request{path: "/v3.5/customer/action/get_dynamic_configuration?organization_id=" + org + "&group_id=0&url=https%3A%2F%2Fshop.example.com%2F"})
	dyn := r.ok(t)
	if dyn["group_id"] != float64(0) || dyn["domain_allowed"] != true || dyn["language"] != "en" || dyn["online_group_ids"] != nil {
		t.Fatalf("get_dynamic_configuration %v", dyn)
	}
	r = e.do(t, request{path: "/v3.3/customer/action/get_dynamic_configuration?license_id=" + lic})
	if m := r.ok(t); m["license_id"] == nil {
		t.Fatalf("3.3 get_dynamic_configuration %v", m)
	}
	wantError(t, e.do(t, request{path: "/v3.5/customer/action/get_dynamic_configuration?organization_id=" + org + "&group_id=42"}), 400, "group_not_found")
	conf := e.do(t, request{path: "/v3.5/customer/action/get_configuration?organization_id=" + org + "&group_id=0&version=" + url.QueryEscape(dyn["config_version"].(string))}).ok(t)
	if conf["prechat_form"] == nil || conf["buttons"] == nil || conf["properties"] == nil {
		t.Fatalf("get_configuration %v", conf)
	}
	loc := e.do(t, request{path: "/v3.5/customer/action/get_localization?organization_id=" + org + "&group_id=0&language=en&version=1"}).ok(t)
	if len(loc) == 0 {
		t.Fatalf("get_localization %v", loc)
	}
	e.do(t, request{path: "/v3.5/customer/action/list_license_properties?organization_id=" + org}).ok(t)
	e.do(t, request{path: "/v3.5/customer/action/list_group_properties?organization_id=" + org + "&id=0"}).ok(t)
	// Public methods still refuse a wrong token.
	wantError(t, e.do(t, request{path: "/v3.5/customer/action/get_localization?organization_id=" + org, auth: agent}), 401, "authentication")

	// upload_file: multipart, answered with the file's URL, which a file event can name.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "note.txt")
	_, _ = fw.Write([]byte("hello file"))
	_ = mw.Close()
	r = e.do(t, request{method: http.MethodPost, path: "/v3.5/customer/action/upload_file?organization_id=" + org, auth: cu.bearer(),
		contentType: mw.FormDataContentType(), body: body.String()})
	fileURL := str(t, r.ok(t), "url")
	wantError(t, e.do(t, request{method: http.MethodPost, path: "/v3.5/customer/action/upload_file?organization_id=" + org, auth: agent,
		contentType: mw.FormDataContentType(), body: body.String()}), 401, "authentication")
	started := e.customerAction(t, cu.bearer(), "3.5", "start_chat", map[string]any{"chat": map[string]any{"thread": map[string]any{
		"events": []any{map[string]any{"type": "file", "url": fileURL}}}}}).ok(t)
	chat := e.customerAction(t, cu.bearer(), "3.5", "get_chat", map[string]any{"chat_id": started["chat_id"]}).ok(t)
	ev := chat["thread"].(map[string]any)["events"].([]any)[0].(map[string]any)
	if ev["name"] != "note.txt" || ev["size"] != float64(10) || !strings.HasPrefix(ev["content_type"].(string), "text/plain") {
		t.Fatalf("file event %v", ev)
	}
	// get_url_info describes the upload from its record.
	info := e.customerAction(t, cu.bearer(), "3.5", "get_url_info", map[string]any{"url": fileURL}).ok(t)
	if info["title"] != "note.txt" || info["image_url"] != nil {
		t.Fatalf("get_url_info %v", info)
	}
}
