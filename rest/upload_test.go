package rest_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
	"github.com/chatbridge/chatbridge/rest"
)

// newFilesEnv is a server whose core keeps uploads in a temporary directory.
func newFilesEnv(t *testing.T) *env {
	t.Helper()
	return newFilesEnvClock(t, nil)
}

// newFilesEnvClock is newFilesEnv on clock (nil: the system's).
func newFilesEnvClock(t *testing.T, clock livechat.Clock) *env {
	t.Helper()
	store := storetest.Open(t)
	files, err := livechat.NewDirFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hub := livechat.NewHub(livechat.HubConfig{})
	t.Cleanup(hub.Close)
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, Publisher: hub, PasswordCost: bcrypt.MinCost, Files: files, Clock: clock})
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

// upload posts one multipart field (name "file" unless field says otherwise).
func (e *env) upload(t *testing.T, auth, version, field, filename, contentType string, content []byte) response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	return e.do(t, request{method: http.MethodPost, path: "/v" + version + "/agent/action/upload_file", auth: auth, contentType: w.FormDataContentType(), body: body.String()})
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestUploadFile(t *testing.T) {
	t.Parallel()
	e := newFilesEnv(t)
	ann := e.agentBearer(t, "ann@example.com")
	pic := pngBytes(t, 7, 5)

	r := e.upload(t, ann, "3.5", "file", "../holiday photo.png", "", pic)
	url := str(t, r.object(t), "url")
	if r.status != http.StatusOK || !strings.HasPrefix(url, e.srv.URL+livechat.FilesPathPrefix) || !strings.HasSuffix(url, "/holiday%20photo.png") {
		t.Fatalf("upload_file: %d %s", r.status, r.body)
	}
	// Served back by URL, without a token, as an image, with the bytes uploaded.
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, pic) || res.Header.Get("Content-Type") != "image/png" ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("GET upload: %d %v", res.StatusCode, res.Header)
	}
	// A file event with that URL is described from the upload.
	chat := e.action(t, ann, "3.5", "start_chat", map[string]any{}).ok(t)
	e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chat["chat_id"], "event": map[string]any{"type": "file", "url": url}}).ok(t)
	evs := e.action(t, ann, "3.5", "get_chat", map[string]any{"chat_id": chat["chat_id"]}).ok(t)["thread"].(map[string]any)["events"].([]any)
	if f := evs[len(evs)-1].(map[string]any); f["name"] != "holiday photo.png" || f["content_type"] != "image/png" || f["size"] != float64(len(pic)) || f["width"] != float64(7) || f["height"] != float64(5) {
		t.Fatalf("file event %v", f)
	}

	// Other content types download rather than display; the name must match.
	r = e.upload(t, ann, "3.3", "file", "page.html", "text/html", []byte("<script>alert(1)</script>"))
	url = str(t, r.object(t), "url")
	res, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("html upload served with %v", res.Header)
	}
	wantError(t, e.do(t, request{path: strings.TrimPrefix(url, e.srv.URL) + "x"}), http.StatusNotFound, "not_found")
	wantError(t, e.do(t, request{path: livechat.FilesPathPrefix + "NOSUCHFILEEEEEE/a.png"}), http.StatusNotFound, "not_found")
	wantError(t, e.do(t, request{path: livechat.FilesPathPrefix + "..%2f..%2fetc/passwd"}), http.StatusNotFound, "not_found")

	// Errors: too large, executables, no file field, a JSON body, RTM, no or bad credentials.
	big := bytes.Repeat([]byte("a"), livechat.MaxUploadSize+1)
	wantError(t, e.upload(t, ann, "3.5", "file", "big.txt", "text/plain", big), http.StatusRequestEntityTooLarge, "entity_too_large")
	huge := bytes.Repeat([]byte("a"), 13<<20) // beyond the server's body limit
	wantError(t, e.upload(t, ann, "3.5", "file", "huge.txt", "text/plain", huge), http.StatusRequestEntityTooLarge, "entity_too_large")
	wantError(t, e.upload(t, ann, "3.5", "file", "setup.exe", "", []byte("whatever")), http.StatusBadRequest, "validation")
	wantError(t, e.upload(t, ann, "3.5", "file", "innocent.png", "image/png", append([]byte("\x7fELF"), pic...)), http.StatusBadRequest, "validation")
	wantError(t, e.upload(t, ann, "3.5", "attachment", "a.png", "", pic), http.StatusBadRequest, "validation")
	wantError(t, e.action(t, ann, "3.5", "upload_file", map[string]any{"file": "x"}), http.StatusBadRequest, "validation")
	wantError(t, e.upload(t, "", "3.5", "file", "a.png", "", pic), http.StatusUnauthorized, "authentication")
	wantError(t, e.upload(t, "Bearer nope", "3.5", "file", "a.png", "", pic), http.StatusUnauthorized, "authentication")
	wantError(t, e.upload(t, ann, "9.9", "file", "a.png", "", pic), http.StatusBadRequest, "unsupported_version")
	rc := e.dialRTM(t, "3.5")
	rc.call("login", map[string]any{"token": ann})
	if r := rc.response(rc.send("upload_file", map[string]any{})); errType(r) != "validation" {
		t.Fatalf("upload_file over RTM: %v", r)
	}
}

// TestUnusedUploadsExpire: an upload no event used is deleted 24 h after
// it was uploaded; one sent as a file event, or shown in a rich message,
// stays.
func TestUnusedUploadsExpire(t *testing.T) {
	t.Parallel()
	clock := livechat.NewFakeClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	e := newFilesEnvClock(t, clock)
	ann := e.agentBearer(t, "ann@example.com")
	pic := pngBytes(t, 4, 4)
	sent := str(t, e.upload(t, ann, "3.5", "file", "sent.png", "", pic).object(t), "url")
	shown := str(t, e.upload(t, ann, "3.5", "file", "card.png", "", pic).object(t), "url")
	unused := str(t, e.upload(t, ann, "3.5", "file", "unused.png", "", pic).object(t), "url")
	chat := e.action(t, ann, "3.5", "start_chat", map[string]any{}).ok(t)
	e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chat["chat_id"], "event": map[string]any{"type": "file", "url": sent}}).ok(t)
	e.action(t, ann, "3.5", "send_event", map[string]any{"chat_id": chat["chat_id"], "event": map[string]any{"type": "rich_message", "template_id": "cards",
		"elements": []any{map[string]any{"title": "A card", "image": map[string]any{"url": shown}}}}}).ok(t)
	get := func(url string) int {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	clock.Advance(23 * time.Hour)
	if n, err := e.svc.DeleteUnusedUploads(t.Context()); err != nil || n != 0 {
		t.Fatalf("after 23 h: deleted %d, %v", n, err)
	}
	clock.Advance(2 * time.Hour)
	if n, err := e.svc.DeleteUnusedUploads(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 25 h: deleted %d, %v", n, err)
	}
	if get(unused) != http.StatusNotFound || get(sent) != http.StatusOK || get(shown) != http.StatusOK {
		t.Fatalf("after expiry: unused %d, sent %d, shown %d", get(unused), get(sent), get(shown))
	}
	if n, err := e.svc.DeleteUnusedUploads(t.Context()); err != nil || n != 0 {
		t.Fatalf("again: deleted %d, %v", n, err)
	}
}

func TestUploadFileDisabled(t *testing.T) {
	t.Parallel()
	e := newRTMEnv(t, rest.RTMTuning{}) // no Files in the core's config
	ann := e.agentBearer(t, "ann@example.com")
	wantError(t, e.upload(t, ann, "3.5", "file", "a.txt", "text/plain", []byte("hi")), http.StatusServiceUnavailable, "service_unavailable")
}

func TestDirFileStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs, err := livechat.NewDirFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info := &livechat.FileInfo{ID: "abcdefgh12", Name: "a.txt", ContentType: "text/plain", CreatedAt: time.Now()}
	if err := fs.Put(ctx, info, strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if info.Size != 5 {
		t.Fatalf("size %d", info.Size)
	}
	got, rc, err := fs.Open(ctx, "abcdefgh12")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" || got.Name != "a.txt" {
		t.Fatalf("open: %q %+v", b, got)
	}
	for _, id := range []string{"../../x", "short", "abcdefgh13"} {
		if _, err := fs.Stat(ctx, id); !livechat.IsType(livechat.AsError(err), livechat.TypeNotFound) {
			t.Fatalf("Stat(%q) = %v, want not found", id, err)
		}
	}
	// A failing reader leaves nothing behind.
	bad := &livechat.FileInfo{ID: "abcdefgh14", Name: "b", CreatedAt: time.Now()}
	if err := fs.Put(ctx, bad, io.MultiReader(strings.NewReader("part"), errReader{})); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	if _, err := fs.Stat(ctx, "abcdefgh14"); err == nil {
		t.Fatal("half-written file kept")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestUploadsBeforeExpiryAreKept: files stored before uploads expired
// (no "expires" in their description) are never deleted.
func TestUploadsBeforeExpiryAreKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs, err := livechat.NewDirFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := &livechat.FileInfo{ID: "oldupload01", Name: "a.txt", CreatedAt: time.Now().Add(-72 * time.Hour)}
	fresh := &livechat.FileInfo{ID: "newupload01", Name: "b.txt", CreatedAt: time.Now().Add(-72 * time.Hour), Expires: true}
	for _, f := range []*livechat.FileInfo{old, fresh} {
		if err := fs.Put(ctx, f, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := fs.DeleteUnused(ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if _, err := fs.Stat(ctx, "oldupload01"); err != nil {
		t.Fatalf("a file from before expiry was deleted: %v", err)
	}
	if _, err := fs.Stat(ctx, "newupload01"); err == nil {
		t.Fatal("an unused expiring upload was kept")
	}
}

// TestPublicURL: with Config.PublicURL, upload links and Rocket.Chat's
// Site_Url name the public address, not the request's host.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	store := storetest.Open(t)
	files, err := livechat.NewDirFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := livechat.NewService(t.Context(), livechat.Config{Store: store, PasswordCost: bcrypt.MinCost, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rest.NewServer(rest.Config{Service: svc, Store: store, PublicURL: "https://chat.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{svc: svc, store: store, srv: srv}
	ann := e.agentBearer(t, "ann@example.com")
	if u := str(t, e.upload(t, ann, "3.5", "file", "a.txt", "text/plain", []byte("hi")).object(t), "url"); !strings.HasPrefix(u, "https://chat.example.com/files/") {
		t.Fatalf("upload url %s", u)
	}
	d := e.dialDDP(t, "/websocket")
	d.connect()
	found := false
	for _, st := range d.mustCall("public-settings/get").([]any) {
		if m := st.(map[string]any); m["_id"] == "Site_Url" {
			found = m["value"] == "https://chat.example.com"
		}
	}
	if !found {
		t.Fatal("Site_Url is not the public URL")
	}
}
