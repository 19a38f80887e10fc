package bridge

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

const rcFixture = "../testdata/migration/rocketchat"

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestImportRocketChatFixture imports a Rocket.Chat mongoexport and reads
// it back as Rocket.Chat clients and LiveChat see it: the same user, room
// and message ids, the users' passwords, the visitors' tokens.
func TestImportRocketChatFixture(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rep, err := h.b.ImportRocketChat(ctx, rcFixture, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"groups": 1, "agents": 2, "customers": 2, "chats": 2, "threads": 2, "events": 10}
	for k, n := range want {
		if rep.Written[k] != n {
			t.Errorf("written %s = %d, want %d (report %+v)", k, rep.Written[k], n, rep)
		}
	}
	if rep.Dropped[`rooms of type "c" and their messages: LiveChat has omnichannel conversations only`] != 1 {
		t.Errorf("the channel was not reported as dropped: %v", rep.Dropped)
	}

	// The agent signs in over DDP with its Rocket.Chat password; its user
	// id is the Rocket.Chat one, and it sees the closed room's history.
	c := h.dial()
	if uid := c.login("bob.agent", "agent-rc-456"); uid != "aG3ntUs3rId000002" {
		t.Fatalf("login id %s", uid)
	}
	hist := c.mustCall("loadHistory", "cL0s3dR00m0000001", nil, 50, nil).(map[string]any)
	var ids []string
	byID := map[string]map[string]any{}
	for _, m := range hist["messages"].([]any) {
		mm := m.(map[string]any)
		ids = append(ids, mm["_id"].(string))
		byID[mm["_id"].(string)] = mm
	}
	for _, id := range []string{"cMsg0000000000001", "cMsg0000000000002", "cMsg0000000000003", "cMsg0000000000004", "cMsg0000000000006", "cMsg0000000000007"} {
		if byID[id] == nil {
			t.Fatalf("history lacks %s: %v", id, ids)
		}
	}
	if m := byID["cMsg0000000000002"]; m["editedAt"] == nil || m["reactions"] == nil || m["u"].(map[string]any)["_id"] != "aG3ntUs3rId000002" {
		t.Errorf("edited message %v", m)
	}
	if m := byID["cMsg0000000000003"]; m["file"] == nil {
		t.Errorf("file message %v", m)
	}
	if m := byID["cMsg0000000000007"]; m["t"] != msgLivechatEnd {
		t.Errorf("close message %v", m)
	}
	if m := byID["cMsg0000000000001"]; m["u"].(map[string]any)["_id"] != "v1s1torId00000001" {
		t.Errorf("visitor message %v", m)
	}

	// The admin (a manager) sees the open room in rooms/get.
	a := h.dial()
	a.mustCall("login", map[string]any{"user": map[string]any{"username": "ada.admin"}, "password": map[string]any{"digest": sha256hex("secret-rc-123"), "algorithm": "sha-256"}})
	rooms := a.mustCall("rooms/get").([]any)
	if len(rooms) != 1 || rooms[0].(map[string]any)["_id"] != "0p3nR00m000000002" {
		t.Fatalf("rooms/get %v", rooms)
	}

	// The visitor's token still works, and only for its own room.
	v := h.dial()
	open := v.mustCall("livechat:loadHistory", map[string]any{"token": "visitorTokenDan00002", "rid": "0p3nR00m000000002"})
	if open == nil {
		t.Fatal("the visitor cannot read its room")
	}
	if r, e := v.call("livechat:loadHistory", map[string]any{"token": "visitorTokenDan00002", "rid": "cL0s3dR00m0000001"}); e == nil && r != false {
		t.Fatalf("a visitor read another visitor's room: %v", r)
	}

	// LiveChat's view: the agents-only note stays agents-only, the
	// department is the chat's group, the custom field a session field.
	bob, err := h.svc.GetAgent(ctx, livechat.System(), "bob@support.example")
	if err != nil || bob.AccountID != "aG3ntUs3rId000002" || len(bob.Groups) == 0 {
		t.Fatalf("bob %+v %v", bob, err)
	}
	evs, err := h.svc.ListChatEvents(ctx, livechat.System(), "cL0s3dR00m0000001", livechat.EventRange{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.ID == "cMsg0000000000004" && e.Visibility != livechat.VisibilityAgents {
			t.Errorf("agents-only note %+v", e)
		}
	}
	cust, err := h.svc.VisitorByToken(ctx, "visitorTokenCarla0001")
	if err != nil || cust.ID != "v1s1torId00000001" || cust.Email != "carla@shop.example" || len(cust.SessionFields) == 0 {
		t.Fatalf("visitor %+v %v", cust, err)
	}

	// Again: nothing new.
	rep, err = h.b.ImportRocketChat(ctx, rcFixture, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Written) != 0 || rep.Skipped["chats"] != 2 || rep.Skipped["customers"] != 2 || rep.Skipped["groups"] != 1 {
		t.Fatalf("second import %+v", rep)
	}
}

// TestRocketChatExportRoundTrip: what chatbridge exports imports into an
// empty store and exports again to the same documents.
func TestRocketChatExportRoundTrip(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sys := livechat.System()
	if _, err := h.svc.CreateGroup(ctx, sys, "Support", ""); err != nil {
		t.Fatal(err)
	}
	ann, err := h.svc.CreateAgent(ctx, sys, livechat.AgentInput{Email: "ann@example.com", Password: "secret123", Groups: []livechat.GroupMembership{{ID: 1, Priority: "normal"}}})
	if err != nil {
		t.Fatal(err)
	}
	cust, _, err := h.svc.RegisterVisitor(ctx, "roundTripToken001", livechat.CustomerInput{Name: ptr("Vera Visitor")})
	if err != nil {
		t.Fatal(err)
	}
	view, err := h.svc.StartChat(ctx, livechat.AgentActor(ann), livechat.StartChatInput{CustomerID: cust.ID, AgentIDs: []string{ann.ID}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	chatID := view.Chat.ID
	say := func(actor livechat.Actor, text string, vis string) *livechat.Event {
		ev, _, err := h.svc.SendEventWithID(ctx, actor, chatID, livechat.NewID(), livechat.Event{Type: livechat.EventMessage, Text: text, Visibility: vis}, livechat.SendEventOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	first := say(livechat.CustomerActor(cust), "hello", "")
	say(livechat.AgentActor(ann), "hi there", "")
	say(livechat.AgentActor(ann), "note to self", livechat.VisibilityAgents)
	if _, err := h.svc.EditEventText(ctx, livechat.CustomerActor(cust), chatID, first.ID, "hello!"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.ReactToEvent(ctx, livechat.AgentActor(ann), chatID, first.ID, ":wave:", ann.Username, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeactivateChat(ctx, livechat.AgentActor(ann), chatID, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := h.svc.ResumeChat(ctx, livechat.CustomerActor(cust), chatID, livechat.ThreadInput{}, true); err != nil {
		t.Fatal(err)
	}
	say(livechat.CustomerActor(cust), "one more thing", "")

	dir1 := filepath.Join(t.TempDir(), "one")
	rep, err := h.b.ExportRocketChat(ctx, dir1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written["chats"] != 1 || rep.Written["agents"] != 1 || rep.Written["customers"] != 1 || rep.Written["groups"] != 1 {
		t.Fatalf("export %+v", rep)
	}
	if _, err := h.b.ExportRocketChat(ctx, dir1, nil); err == nil {
		t.Fatal("an export over existing files succeeded")
	}

	h2 := newHarness(t)
	if _, err := h2.b.ImportRocketChat(ctx, dir1, nil); err != nil {
		t.Fatal(err)
	}
	dir2 := filepath.Join(t.TempDir(), "two")
	if _, err := h2.b.ExportRocketChat(ctx, dir2, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{rcUsersFile, rcDepartmentsFile, rcDeptAgentsFile, rcMessagesFile, rcRoomsFile} {
		a, b := docLines(t, filepath.Join(dir1, name)), docLines(t, filepath.Join(dir2, name))
		if !slices.Equal(a, b) {
			t.Errorf("%s differs after a round trip:\n%s\n---\n%s", name, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	// The imported agent signs in with the same password and the same id.
	c := h2.dial()
	if uid := c.login("ann.example.com", "secret123"); uid != ann.AccountID {
		t.Fatalf("login id %s, want %s", uid, ann.AccountID)
	}
}

// docLines reads a collection file with the fields that legitimately
// differ between two exports (random visitor tokens, live status) removed,
// sorted.
func docLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if v, ok := m["v"].(map[string]any); ok {
			delete(v, "token")
			delete(v, "status")
		}
		delete(m, "token")
		raw, _ := json.Marshal(m)
		out = append(out, string(raw))
	}
	sort.Strings(out)
	return out
}

// TestImportRocketChatErrors: bad input names the file and the line, and
// never half-imports a room.
func TestImportRocketChatErrors(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	write := func(files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"not JSON", map[string]string{rcUsersFile: "{\"_id\":\"a\"}\n{oops\n"}, "users.json line 2"},
		{"bad date", map[string]string{rcVisitorsFile: `{"_id":"v1","token":"tokentoken1","ts":{"$date":"yesterday"}}` + "\n"}, "rocketchat_livechat_visitor.json line 1"},
		{"room without visitor", map[string]string{rcRoomsFile: `{"_id":"r1","t":"l","ts":{"$date":0}}` + "\n"}, "without a visitor"},
		{"short visitor token", map[string]string{rcVisitorsFile: `{"_id":"v2","token":"short"}` + "\n"}, "visitor token"},
		{"jsonArray", map[string]string{rcVisitorsFile: ` [{"_id":"v3","token":"tokentoken3"}]`}, "--jsonArray"},
	}
	for _, tc := range cases {
		_, err := h.b.ImportRocketChat(ctx, write(tc.files), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := h.b.ImportRocketChat(ctx, filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Error("importing a missing directory succeeded")
	}
	if _, err := h.svc.Store().Customers().Get(ctx, "v2"); err == nil {
		t.Error("a visitor with a refused token was stored")
	}
	if _, err := h.svc.Store().Customers().Get(ctx, "v1"); err == nil {
		t.Error("a visitor of a file with a bad line was stored")
	}
}

// BenchmarkImportRocketChat imports 50 omnichannel rooms of 20 messages
// each (one visitor and one agent per room) into an empty embedded store
// per iteration; rooms/s is the figure the README quotes.
func BenchmarkImportRocketChat(b *testing.B) {
	const rooms, perRoom = 50, 20
	dir := b.TempDir()
	files := map[string]*strings.Builder{}
	add := func(name, line string) {
		if files[name] == nil {
			files[name] = &strings.Builder{}
		}
		files[name].WriteString(line + "\n")
	}
	add(rcUsersFile, `{"_id":"benchAgent0000001","username":"bench.agent","name":"Bench","emails":[{"address":"bench@example.com"}],"roles":["livechat-agent"],"createdAt":{"$date":"2025-01-01T00:00:00.000Z"}}`)
	base := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	for r := range rooms {
		rid := "benchRoom" + strconv.Itoa(100000+r)
		vid := "benchVisitor" + strconv.Itoa(100000+r)
		ts := base.Add(time.Duration(r) * time.Hour)
		add(rcVisitorsFile, `{"_id":"`+vid+`","token":"tok-`+vid+`","name":"Visitor `+strconv.Itoa(r)+`","ts":{"$date":"`+ts.Format(time.RFC3339)+`"}}`)
		add(rcRoomsFile, `{"_id":"`+rid+`","t":"l","v":{"_id":"`+vid+`","token":"tok-`+vid+`"},"servedBy":{"_id":"benchAgent0000001","username":"bench.agent"},"ts":{"$date":"`+ts.Format(time.RFC3339)+`"},"closedAt":{"$date":"`+ts.Add(time.Hour).Format(time.RFC3339)+`"}}`)
		for m := range perRoom {
			u := `{"_id":"benchAgent0000001","username":"bench.agent"}`
			if m%2 == 0 {
				u = `{"_id":"` + vid + `","username":"guest"}`
			}
			at := ts.Add(time.Duration(m+1) * time.Minute).Format(time.RFC3339)
			add(rcMessagesFile, `{"_id":"`+rid+`m`+strconv.Itoa(m)+`","rid":"`+rid+`","msg":"message `+strconv.Itoa(m)+`","ts":{"$date":"`+at+`"},"u":`+u+`}`)
		}
	}
	for name, sb := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sb.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		h := newHarness(b)
		b.StartTimer()
		rep, err := h.b.ImportRocketChat(context.Background(), dir, nil)
		if err != nil || rep.Written["chats"] != rooms {
			b.Fatalf("%v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(rooms*b.N)/b.Elapsed().Seconds(), "rooms/s")
	b.ReportMetric(float64(rooms*perRoom*b.N)/b.Elapsed().Seconds(), "messages/s")
}
