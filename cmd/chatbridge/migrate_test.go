package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMigrationCommands: a Rocket.Chat export imported with the CLI is
// served (Rocket.Chat REST login with the Rocket.Chat password, the same
// room and message ids, the LiveChat Web API on the same chats); then the
// store goes out as LiveChat data, into a second data directory, and out
// again as Rocket.Chat data with the same rooms and messages.
func TestMigrationCommands(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	one, two := filepath.Join(root, "one"), filepath.Join(root, "two")
	fixture, err := filepath.Abs(filepath.Join("..", "..", "testdata", "migration", "rocketchat"))
	if err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, "import", "--format", "rocketchat", "--dir", fixture, "--data-dir", one, "--quiet")
	var rep struct {
		Written, Skipped, Dropped map[string]int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Written["chats"] != 2 || rep.Written["agents"] != 2 || len(rep.Dropped) == 0 {
		t.Fatalf("import report %v:\n%s", err, out)
	}
	out = mustRun(t, "import", "--format", "rocketchat", "--dir", fixture, "--data-dir", one, "--quiet")
	rep.Written, rep.Skipped = nil, nil
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Written) != 0 || rep.Skipped["chats"] != 2 {
		t.Fatalf("second import report %v:\n%s", err, out)
	}

	srv := startServe(t, serveArgs(one)...)
	r := srv.do(t, http.MethodPost, "/api/v1/login", "", "application/json", `{"user":"bob.agent","password":"agent-rc-456"}`)
	login := r.object(t)
	data, _ := login["data"].(map[string]any)
	if r.status != http.StatusOK || data["userId"] != "aG3ntUs3rId000002" {
		t.Fatalf("login with the Rocket.Chat password: %d %s", r.status, r.body)
	}
	token := data["authToken"].(string)
	hist := srv.rcGet(t, "/api/v1/channels.history?roomId=cL0s3dR00m0000001&count=50", "aG3ntUs3rId000002", token)
	var ids []string
	for _, m := range hist["messages"].([]any) {
		ids = append(ids, m.(map[string]any)["_id"].(string))
	}
	if !slices.Contains(ids, "cMsg0000000000001") || !slices.Contains(ids, "cMsg0000000000007") {
		t.Fatalf("history after import: %v", ids)
	}
	// The same chat over the LiveChat Web API, with the Rocket.Chat token as Bearer.
	r = srv.do(t, http.MethodPost, "/v3.5/agent/action/get_chat", "Bearer "+token, "application/json", `{"chat_id":"cL0s3dR00m0000001"}`)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "cMsg0000000000002") {
		t.Fatalf("get_chat after import: %d %s", r.status, r.body)
	}
	srv.stop(t)

	lc, rc1, rc2 := filepath.Join(root, "lc"), filepath.Join(root, "rc1"), filepath.Join(root, "rc2")
	mustRun(t, "export", "--format", "livechat", "--dir", lc, "--data-dir", one, "--quiet")
	mustRun(t, "export", "--format", "rocketchat", "--dir", rc1, "--data-dir", one, "--quiet")
	mustRun(t, "import", "--format", "livechat", "--dir", lc, "--data-dir", two, "--quiet")
	mustRun(t, "export", "--format", "rocketchat", "--dir", rc2, "--data-dir", two, "--quiet")
	for _, name := range []string{"rocketchat_room.json", "rocketchat_message.json"} {
		a, b := idsIn(t, filepath.Join(rc1, name)), idsIn(t, filepath.Join(rc2, name))
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s: ids %v after LiveChat → chatbridge, %v before", name, b, a)
		}
	}
	if _, err := runCLI(t, "export", "--format", "rocketchat", "--dir", rc1, "--data-dir", one, "--quiet"); err == nil {
		t.Error("an export over existing files succeeded")
	}
	for _, bad := range [][]string{{"import", "--dir", lc}, {"import", "--format", "slack", "--dir", lc}, {"export", "--format", "livechat"}} {
		if _, err := runCLI(t, append(bad, "--data-dir", one)...); err == nil {
			t.Errorf("chatbridge %v succeeded", bad)
		}
	}
}

func (in *instance) rcGet(t *testing.T, path, uid, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, in.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-User-Id", uid)
	req.Header.Set("X-Auth-Token", token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %v", path, res.StatusCode, err, m)
	}
	return m
}

// idsIn lists the _id of every document of a collection file, sorted.
func idsIn(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var d struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids
}
