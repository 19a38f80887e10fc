package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// rcUpload posts a multipart body (a "file" part unless name is empty, and
// the text fields) with the given headers, and decodes the JSON answer.
func (e *env) rcUpload(t *testing.T, path string, headers map[string]string, name string, content []byte, fields map[string]string) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if name != "" {
		part, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(content)
	}
	w.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %s", path, res.StatusCode, raw)
	}
	return res.StatusCode, m
}

// TestRocketChatUploads: a visitor (livechat/upload, x-visitor-token) and
// an agent (rooms.upload) send files into their room: a file message the
// other side hears live, whose link serves the bytes; nobody uploads into
// a room that is not theirs.
func TestRocketChatUploads(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t)
	a, ag, uid := e.ddpAgent(t, "rest.upload@example.com")
	ag.mustSub("livechat:inquiry")
	token := "restUploadToken01"
	rid := e.rcServedRoom(t, ag, token, "restUploadRoom001", "")
	ag.mustSub("stream-room-messages", rid, false)

	st, m := e.rcUpload(t, "/api/v1/livechat/upload/"+rid, map[string]string{"X-Visitor-Token": token}, "receipt.txt", []byte("total: 42"), map[string]string{"msg": "my receipt"})
	msg := rcOK(t, st, m, "livechat/upload")["message"].(map[string]any)
	file, _ := msg["file"].(map[string]any)
	if file == nil || file["name"] != "receipt.txt" || msg["rid"] != rid {
		t.Fatalf("livechat/upload %v", m)
	}
	ag.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["_id"] == msg["_id"] })
	ag.stream("stream-room-messages", rid, func(a []any) bool { return msgOf(a)["msg"] == "my receipt" })
	link := msg["attachments"].([]any)[0].(map[string]any)["title_link"].(string)
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != "total: 42" {
		t.Fatalf("GET %s: %d %q", link, res.StatusCode, got)
	}

	st, m = e.rcDo(t, http.MethodPost, "/api/v1/login", nil, map[string]any{"user": a.Username, "password": testPassword})
	creds := map[string]string{"X-User-Id": uid, "X-Auth-Token": m["data"].(map[string]any)["authToken"].(string)}
	st, m = e.rcUpload(t, "/api/v1/rooms.upload/"+rid, creds, "reply.png", pngBytes(t, 3, 2), nil)
	if f := rcOK(t, st, m, "rooms.upload")["message"].(map[string]any)["file"].(map[string]any); f["type"] != "image/png" {
		t.Fatalf("rooms.upload %v", m)
	}

	// Refusals: no token, an unknown one, no file, another visitor's room.
	if st, m := e.rcUpload(t, "/api/v1/livechat/upload/"+rid, nil, "a.txt", []byte("x"), nil); st != http.StatusUnauthorized {
		t.Fatalf("without a token: %d %v", st, m)
	}
	if st, m := e.rcUpload(t, "/api/v1/livechat/upload/"+rid, map[string]string{"X-Visitor-Token": "noSuchToken0001"}, "a.txt", []byte("x"), nil); st != http.StatusBadRequest || m["errorType"] != "invalid-token" {
		t.Fatalf("unknown token: %d %v", st, m)
	}
	if st, m := e.rcUpload(t, "/api/v1/livechat/upload/"+rid, map[string]string{"X-Visitor-Token": token}, "", nil, map[string]string{"msg": "no file"}); st != http.StatusBadRequest || m["success"] != false {
		t.Fatalf("without a file: %d %v", st, m)
	}
	other := "restUploadToken02"
	st, m = e.rcDo(t, http.MethodPost, "/api/v1/livechat/visitor", nil, map[string]any{"visitor": map[string]any{"token": other}})
	rcOK(t, st, m, "second visitor")
	if st, m := e.rcUpload(t, "/api/v1/livechat/upload/"+rid, map[string]string{"X-Visitor-Token": other}, "a.txt", []byte("x"), nil); st != http.StatusBadRequest || m["errorType"] != "error-invalid-room" {
		t.Fatalf("another visitor's room: %d %v", st, m)
	}
	if st, m := e.rcUpload(t, "/api/v1/rooms.upload/"+rid, map[string]string{"X-User-Id": uid, "X-Auth-Token": "wrong"}, "a.txt", []byte("x"), nil); st != http.StatusUnauthorized {
		t.Fatalf("rooms.upload with a bad token: %d %v", st, m)
	}
	if st, m := e.rcUpload(t, "/api/v1/livechat/upload/"+rid, map[string]string{"X-Visitor-Token": token}, "setup.exe", []byte("MZ\x90\x00"), nil); st != http.StatusBadRequest || m["success"] != false {
		t.Fatalf("an executable: %d %v", st, m)
	}
}
