package migrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/migrate"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// fixtureDir is the hand-written LiveChat download (see testdata/migration/README.md).
const fixtureDir = "../../testdata/migration/livechat"

var epoch = time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)

// newService is a core on a fresh embedded store, with a stopped clock.
func newService(tb testing.TB, start time.Time) (*livechat.Service, *livechat.FakeClock) {
	tb.Helper()
	clock := livechat.NewFakeClock(start)
	svc, err := livechat.NewService(context.Background(), livechat.Config{Store: storetest.Open(tb), Clock: clock, PasswordCost: 4,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc, clock
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seed builds a store through the ordinary operations: a group, two agents
// and a bot, two customers, a chat with a closed and an active thread
// (messages, system messages, an agents-only note, a file, properties,
// tags) and a second chat left closed.
func seed(t *testing.T, svc *livechat.Service, clock *livechat.FakeClock) {
	ctx, sys := context.Background(), livechat.System()
	tick := func() { clock.Advance(1500 * time.Millisecond) }
	anna := must[*livechat.Agent](t)(svc.CreateAgent(ctx, sys, livechat.AgentInput{Email: "anna@example.com", Name: "Anna Nowak",
		Role: livechat.RoleOwner, Password: "secret123", Avatar: "https://example.com/anna.png",
		Profile: livechat.AgentProfile{JobTitle: "Owner", Notifications: []string{"incoming_chat"},
			WorkScheduler: &livechat.WorkScheduler{Timezone: "Europe/Warsaw", Schedule: []livechat.WorkDay{{Day: "monday", Enabled: true, Start: "08:00", End: "16:00"}}}}}))
	tick()
	ben := must[*livechat.Agent](t)(svc.CreateAgent(ctx, sys, livechat.AgentInput{Email: "ben@example.com", Name: "Ben", MaxChats: 3}))
	tick()
	bot, _, err := svc.CreateBot(ctx, sys, livechat.AgentInput{Name: "Helper", OwnerClientID: "client-1"})
	check(t, err)
	tick()
	group := must[*livechat.Group](t)(svc.CreateConfigGroup(ctx, sys, "Sales", "de", map[string]string{anna.ID: "first", ben.ID: "normal", bot.ID: "last"}))
	must[*livechat.Tag](t)(svc.CreateTag(ctx, sys, "billing", nil))
	name, mail := "Carla", "carla@example.org"
	carla := must[*livechat.Customer](t)(svc.CreateCustomer(ctx, sys, livechat.CustomerInput{Name: &name, Email: &mail,
		SessionFields: []map[string]string{{"plan": "pro"}, {"order": "A-1"}}}))
	tick()
	dan := must[*livechat.Customer](t)(svc.CreateCustomer(ctx, sys, livechat.CustomerInput{}))
	tick()

	annaA, carlaA := livechat.AgentActor(anna), livechat.CustomerActor(carla)
	msg := func(text string) livechat.Event { return livechat.Event{Type: livechat.EventMessage, Text: text} }
	view := must[*livechat.ChatView](t)(svc.StartChat(ctx, annaA, livechat.StartChatInput{Active: true, CustomerID: carla.ID,
		AgentIDs: []string{ben.ID}, Access: &livechat.Access{GroupIDs: []int{group.ID}},
		Properties: livechat.Properties{"routing": {"pinned": true}},
		Thread:     livechat.ThreadInput{Events: []livechat.Event{msg("Hello <Carla> & welcome")}}}))
	chatID, first := view.Chat.ID, view.Thread.ID
	send := func(a livechat.Actor, e livechat.Event) *livechat.Event {
		t.Helper()
		tick()
		return must[*livechat.Event](t)(svc.SendEvent(ctx, a, chatID, e, livechat.SendEventOptions{}))
	}
	send(carlaA, msg("Hi, my invoice is wrong"))
	note := msg("internal: check the invoice")
	note.Visibility = livechat.VisibilityAgents
	send(livechat.AgentActor(ben), note)
	send(sys, livechat.Event{Type: livechat.EventSystemMessage, SystemMessageType: "routing.assigned", Text: "Ben joined", TextVars: map[string]string{"agent": "Ben"}})
	send(carlaA, livechat.Event{Type: livechat.EventFile, URL: "https://files.example.com/invoice.pdf", Name: "invoice.pdf", ContentType: "application/pdf", Size: 1234})
	ev := send(annaA, livechat.Event{Type: livechat.EventRichMessage, TemplateID: "quick_replies",
		Elements: []any{map[string]any{"title": "Solved?", "buttons": []any{map[string]any{"text": "Yes", "postback_id": "yes"}}}}})
	check(t, svc.UpdateProperties(ctx, sys, livechat.PropertyTarget{ChatID: chatID, ThreadID: first, EventID: ev.ID}, livechat.Properties{"lc": {"seen": true}}))
	check(t, svc.UpdateProperties(ctx, sys, livechat.PropertyTarget{ChatID: chatID, ThreadID: first}, livechat.Properties{"rating": {"score": 5}}))
	check(t, svc.TagThread(ctx, annaA, chatID, first, "billing", true))
	tick()
	check(t, svc.DeactivateChat(ctx, annaA, chatID, false))
	clock.Advance(time.Hour)
	must[*livechat.ChatView](t)(svc.ResumeChat(ctx, carlaA, chatID, livechat.ThreadInput{Events: []livechat.Event{msg("Me again")}}, true))
	send(annaA, msg("Welcome back"))
	send(annaA, livechat.Event{Type: livechat.EventCustom, CustomID: "c-1", Content: map[string]any{"order": map[string]any{"id": "A-1", "total": 19.99}}})

	tick()
	other := must[*livechat.ChatView](t)(svc.StartChat(ctx, annaA, livechat.StartChatInput{Active: true, CustomerID: dan.ID,
		Thread: livechat.ThreadInput{Events: []livechat.Event{msg("Can I help?")}}}))
	tick()
	check(t, svc.DeactivateChat(ctx, annaA, other.Chat.ID, false))
}

// readDir returns the four files of an export.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range migrate.Files {
		out[name] = must[[]byte](t)(os.ReadFile(filepath.Join(dir, name)))
	}
	return out
}

// sameExport fails when two exports differ, showing the first differing line.
func sameExport(t *testing.T, a, b map[string][]byte) {
	t.Helper()
	for _, name := range migrate.Files {
		if bytes.Equal(a[name], b[name]) {
			continue
		}
		la, lb := strings.Split(string(a[name]), "\n"), strings.Split(string(b[name]), "\n")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				t.Fatalf("%s line %d differs:\n first: %s\nsecond: %s", name, i+1, la[i], lb[i])
			}
		}
		t.Fatalf("%s differs in length: %d and %d lines", name, len(la), len(lb))
	}
}

func TestLiveChatRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, clock := newService(t, epoch)
	seed(t, src, clock)

	dir1 := filepath.Join(t.TempDir(), "export1")
	steps := map[string]int{}
	rep1 := must[*livechat.MigrationReport](t)(migrate.ExportLiveChat(ctx, src, dir1, func(k string) { steps[k]++ }))
	want := map[string]int{"groups": 2, "agents": 3, "customers": 2, "chats": 2, "threads": 3, "events": 12}
	if !maps.Equal(rep1.Written, want) {
		t.Fatalf("export wrote %v, want %v", rep1.Written, want)
	}
	if steps["chats"] != 2 || steps["agents"] != 3 || steps["threads"] != 0 {
		t.Fatalf("export progress %v", steps)
	}
	for _, why := range []string{"agent passwords: credentials are not exported (set them again after import)",
		"bot secrets: credentials are not exported (reset_bot_secret after import)",
		"tag definitions (list_tags): not part of the format; thread tags are kept"} {
		if rep1.Dropped[why] != 1 {
			t.Errorf("export dropped %v, want %q once", rep1.Dropped, why)
		}
	}
	first := readDir(t, dir1)
	if lines := bytes.Count(first[migrate.ChatsFile], []byte("\n")); lines != 2 {
		t.Fatalf("chats.jsonl has %d lines, want 2", lines)
	}
	if !bytes.Contains(first[migrate.ChatsFile], []byte("Hello <Carla> & welcome")) {
		t.Fatal("message text is HTML-escaped or missing")
	}
	if bytes.Contains(first[migrate.AgentsFile], []byte("password")) || bytes.Contains(first[migrate.AgentsFile], []byte("secret")) {
		t.Fatal("agents.json holds credentials")
	}

	dst, _ := newService(t, epoch.Add(30*24*time.Hour))
	rep2 := must[*livechat.MigrationReport](t)(migrate.ImportLiveChat(ctx, dst, dir1, nil))
	wantImport := maps.Clone(want)
	wantImport["groups"] = 1 // group 0 is in every store already
	if !maps.Equal(rep2.Written, wantImport) || !maps.Equal(rep2.Skipped, map[string]int{"groups": 1}) || len(rep2.Dropped) != 0 {
		t.Fatalf("import report %+v, want written %v", rep2, wantImport)
	}
	dir2 := filepath.Join(t.TempDir(), "export2")
	must[*livechat.MigrationReport](t)(migrate.ExportLiveChat(ctx, dst, dir2, nil))
	second := readDir(t, dir2)
	sameExport(t, first, second)

	t.Run("import again skips everything", func(t *testing.T) {
		rep := must[*livechat.MigrationReport](t)(migrate.ImportLiveChat(ctx, dst, dir1, nil))
		all := maps.Clone(want)
		if len(rep.Written) != 0 || !maps.Equal(rep.Skipped, all) {
			t.Fatalf("second import %+v, want everything skipped: %v", rep, all)
		}
		dir3 := filepath.Join(t.TempDir(), "export3")
		must[*livechat.MigrationReport](t)(migrate.ExportLiveChat(ctx, dst, dir3, nil))
		sameExport(t, second, readDir(t, dir3))
	})

	t.Run("ids and times kept", func(t *testing.T) {
		chats, _, err := src.ListChats(ctx, livechat.System(), livechat.ChatFilter{IncludeInactive: true})
		check(t, err)
		for _, c := range chats {
			a := must[*livechat.ChatView](t)(src.GetChat(ctx, livechat.System(), c.ID, ""))
			b := must[*livechat.ChatView](t)(dst.GetChat(ctx, livechat.System(), c.ID, ""))
			if a.Thread.ID != b.Thread.ID || !a.Thread.CreatedAt.Equal(b.Thread.CreatedAt) || a.Chat.CustomerID != b.Chat.CustomerID ||
				!a.Chat.LastEventAt.Equal(b.Chat.LastEventAt) || a.Chat.ThreadCount != b.Chat.ThreadCount {
				t.Fatalf("chat %s differs after import:\n%+v\n%+v", c.ID, a.Chat, b.Chat)
			}
			if a.Thread.ClosedAt != nil && (b.Thread.ClosedAt == nil || !a.Thread.ClosedAt.Equal(*b.Thread.ClosedAt)) {
				t.Fatalf("thread %s closed at %v, imported %v", a.Thread.ID, a.Thread.ClosedAt, b.Thread.ClosedAt)
			}
			for i := range a.Events {
				if a.Events[i].ID != b.Events[i].ID || !a.Events[i].CreatedAt.Equal(b.Events[i].CreatedAt) {
					t.Fatalf("event %d of chat %s: %+v, imported %+v", i, c.ID, a.Events[i], b.Events[i])
				}
			}
		}
		a := must[*livechat.Agent](t)(dst.GetAgent(ctx, livechat.System(), "anna@example.com"))
		if a.Role != livechat.RoleOwner || a.PasswordHash != "" || a.WorkScheduler == nil || a.Username != "anna.example.com" {
			t.Fatalf("imported agent %+v", a)
		}
	})
}

// TestLiveChatFixture imports a hand-written LiveChat download and reads it
// back through the core.
func TestLiveChatFixture(t *testing.T) {
	t.Parallel()
	ctx, sys := context.Background(), livechat.System()
	svc, _ := newService(t, epoch)
	var steps []string
	rep := must[*livechat.MigrationReport](t)(migrate.ImportLiveChat(ctx, svc, fixtureDir, func(k string) { steps = append(steps, k) }))
	want := map[string]int{"groups": 2, "agents": 3, "customers": 2, "chats": 2, "threads": 3, "events": 20}
	if !maps.Equal(rep.Written, want) || !maps.Equal(rep.Skipped, map[string]int{"groups": 1}) {
		t.Fatalf("import report %+v, want written %v", rep, want)
	}
	if got := slices.Compact(slices.Clone(steps)); !slices.Equal(got, []string{"groups", "agents", "customers", "chats"}) {
		t.Fatalf("progress order %v", got)
	}
	wantDropped := map[string]int{
		"customers' last_visit.geolocation: chatbridge keeps none":                                                  1,
		"customers' greetings statistics: chatbridge has no greetings":                                              1,
		"group agent_priorities naming agents missing from agents.json":                                             1,
		"chat users who are agents neither in agents.json nor in the store (deleted agents; their events are kept)": 1,
	}
	if !maps.Equal(rep.Dropped, wantDropped) {
		t.Fatalf("dropped %v, want %v", rep.Dropped, wantDropped)
	}

	chats, total, err := svc.ListChats(ctx, sys, livechat.ChatFilter{IncludeInactive: true})
	check(t, err)
	ids := []string{}
	for _, c := range chats {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if total != 2 || !slices.Equal(ids, []string{"PJ0MRSHTDG", "PJ0MRSHTDH"}) {
		t.Fatalf("ListChats = %v (%d)", ids, total)
	}
	active := must[*livechat.ChatView](t)(svc.GetChat(ctx, sys, "PJ0MRSHTDG", ""))
	if active.Thread.ID != "QBK1E0CN66" || !active.Thread.Active || active.Thread.PreviousThreadID != "QBK1DXXSUY" || len(active.Events) != 4 {
		t.Fatalf("active thread %+v with %d events", active.Thread, len(active.Events))
	}
	if c := active.Chat; c.CustomerID != "b7eff798-f8df-4364-8059-649c35c9ed0c" || !slices.Equal(c.Access.GroupIDs, []int{1}) || c.ThreadCount != 2 {
		t.Fatalf("chat %+v", c)
	}
	closed := must[*livechat.ChatView](t)(svc.GetChat(ctx, sys, "PJ0MRSHTDG", "QBK1DXXSUY"))
	// The core reads a thread's events oldest first, whatever their ids
	// (LiveChat's "<thread>_<n>" do not sort past 9).
	var evIDs []string
	for _, e := range closed.Events {
		evIDs = append(evIDs, e.ID)
	}
	wantIDs := make([]string, 11)
	for i := range wantIDs {
		wantIDs[i] = fmt.Sprintf("QBK1DXXSUY_%d", i+1)
	}
	if !slices.Equal(evIDs, wantIDs) {
		t.Fatalf("closed thread events %v, want %v", evIDs, wantIDs)
	}
	if at := time.Date(2024, 3, 4, 10, 1, 0, 104_000_000, time.UTC); !closed.Events[0].CreatedAt.Equal(at) {
		t.Fatalf("first event at %v, want %v (kept to the millisecond)", closed.Events[0].CreatedAt, at)
	}
	if at := time.Date(2024, 3, 4, 10, 4, 15, 500_000_000, time.UTC); closed.Thread.ClosedAt == nil || !closed.Thread.ClosedAt.Equal(at) {
		t.Fatalf("closed thread closed at %v, want its last event %v", closed.Thread.ClosedAt, at)
	}
	if !slices.Equal(closed.Thread.Tags, []string{"invoice", "vip"}) || closed.Thread.Properties["routing"]["start_url"] != "https://shop.example.com/pricing" {
		t.Fatalf("closed thread tags %v properties %v", closed.Thread.Tags, closed.Thread.Properties)
	}
	if e := closed.Events[3]; e.Postback["event_id"] != "QBK1DXXSUY_3" || e.AuthorID != "b7eff798-f8df-4364-8059-649c35c9ed0c" {
		t.Fatalf("postback message %+v", e)
	}
	if e := closed.Events[7]; e.Visibility != livechat.VisibilityAgents {
		t.Fatalf("agents-only note imported as %+v", e)
	}
	// The customer does not see the agents-only note.
	cust := livechat.CustomerActor(must[*livechat.Customer](t)(svc.GetCustomer(ctx, sys, "b7eff798-f8df-4364-8059-649c35c9ed0c")))
	if v := must[*livechat.ChatView](t)(svc.GetChat(ctx, cust, "PJ0MRSHTDG", "QBK1DXXSUY")); len(v.Events) != 10 {
		t.Fatalf("customer sees %d events, want 10", len(v.Events))
	}
	single := must[*livechat.ChatView](t)(svc.GetChat(ctx, sys, "PJ0MRSHTDH", ""))
	if single.Thread.ID != "QBK4LPXW7Z" || single.Thread.Active || len(single.Events) != 5 || single.Events[3].FormType != "ask_for_email" {
		t.Fatalf("get_chat-shaped chat: %+v %+v", single.Thread, single.Events)
	}
	// A deleted agent's messages stay; the agent is no longer a chat user.
	if single.Chat.User("former.agent@example.com") != nil || single.Events[1].AuthorID != "former.agent@example.com" {
		t.Fatalf("deleted agent: users %+v, event %+v", single.Chat.Users, single.Events[1])
	}

	// The fixture names john once as "John.Smith@Example.com" (users) and
	// once as "John.Smith@example.com" (an author): stored lower-cased.
	if n, err := svc.Store().Events().Count(ctx, livechat.Where(livechat.Eq("author_id", "John.Smith@example.com"))); err != nil || n != 0 {
		t.Fatalf("a mixed-case author id was kept: %d %v", n, err)
	}
	if n, err := svc.Store().Events().Count(ctx, livechat.Where(livechat.Eq("author_id", "john.smith@example.com"))); err != nil || n < 2 {
		t.Fatalf("john's events: %d %v", n, err)
	}
	john := must[*livechat.Agent](t)(svc.GetAgent(ctx, sys, "john.smith@example.com"))
	if !slices.Equal(john.Groups, []livechat.GroupMembership{{ID: 0, Priority: "normal"}, {ID: 1, Priority: "normal"}}) {
		t.Fatalf("john's groups from agent_priorities: %v", john.Groups)
	}
	jane := must[*livechat.Agent](t)(svc.GetAgent(ctx, sys, "jane.doe@example.com"))
	if jane.Role != livechat.RoleAdministrator || jane.RoutingStatus != livechat.RoutingAccepting || jane.AccountID != "d24fa41e-bfc5-4ba3-9f15-8a2e1f1a6b7c" ||
		jane.WorkScheduler == nil || len(jane.WorkScheduler.Schedule) != 3 || jane.MaxChats != 8 {
		t.Fatalf("jane %+v", jane)
	}
	bot := must[*livechat.Agent](t)(svc.GetAgent(ctx, sys, "5c9871d5372c824cbf22d860a707a578"))
	if bot.Kind != livechat.AgentKindBot || bot.OwnerClientID != "asXdesldiAJSq9padj" || bot.DefaultGroupPriority != "first" {
		t.Fatalf("bot %+v", bot)
	}
	thomas := must[*livechat.Customer](t)(svc.GetCustomer(ctx, sys, "b7eff798-f8df-4364-8059-649c35c9ed0c"))
	if thomas.LastVisit == nil || len(thomas.LastVisit.LastPages) != 2 || thomas.VisitsCount != 3 || thomas.SessionFields[1]["order_id"] != "A-1042" ||
		!thomas.CreatedAt.Equal(time.Date(2024, 3, 4, 9, 58, 12, 118_000_000, time.UTC)) {
		t.Fatalf("customer %+v", thomas)
	}

	// What was imported exports again and re-imports as it is.
	dir := filepath.Join(t.TempDir(), "out")
	must[*livechat.MigrationReport](t)(migrate.ExportLiveChat(ctx, svc, dir, nil))
	out := readDir(t, dir)
	var line map[string]any
	check(t, json.Unmarshal(out[migrate.ChatsFile][:bytes.IndexByte(out[migrate.ChatsFile], '\n')], &line))
	if threads, _ := line["threads"].([]any); line["id"] != "PJ0MRSHTDG" || len(threads) != 2 {
		t.Fatalf("exported chat %v", line["id"])
	}
	again, _ := newService(t, epoch)
	must[*livechat.MigrationReport](t)(migrate.ImportLiveChat(ctx, again, dir, nil))
	dir2 := filepath.Join(t.TempDir(), "out2")
	must[*livechat.MigrationReport](t)(migrate.ExportLiveChat(ctx, again, dir2, nil))
	sameExport(t, out, readDir(t, dir2))
}

func TestLiveChatImportErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _ := newService(t, epoch)
	customer := `[{"id":"%s","type":"customer","created_at":"2024-01-01T00:00:00.000000Z"}]`
	chat := func(id, customerID, eventThread string) string {
		return `{"id":"` + id + `","users":[{"id":"` + customerID + `","type":"customer"}],"threads":[{"id":"` + id + `T1","active":false,` +
			`"created_at":"2024-01-01T00:00:01.000000Z","events":[{"id":"` + id + `E1","type":"message","text":"hi","author_id":"` + customerID + `",` +
			`"thread_id":"` + eventThread + `","created_at":"2024-01-01T00:00:02.000000Z"}]}]}` + "\n"
	}
	cases := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"malformed line names the line", map[string]string{
			migrate.ChatsFile: "\n{\"id\": \"X\", \"users\": [\n"},
			[]string{"chats.jsonl:2:", "invalid JSON"}},
		{"event naming an unknown thread", map[string]string{
			migrate.CustomersFile: fmt.Sprintf(customer, "c1"),
			migrate.ChatsFile:     chat("CHATA", "c1", "CHATAT1") + chat("CHATB", "c1", "NOSUCH")},
			[]string{"chats.jsonl:2:", "CHATBE1", `"NOSUCH"`}},
		{"chat whose customer is missing", map[string]string{
			migrate.ChatsFile: chat("CHATC", "ghost", "")},
			[]string{"chats.jsonl:1:", `customer "ghost" not found`}},
		{"chat without a customer", map[string]string{
			migrate.ChatsFile: `{"id":"CHATD","users":[],"threads":[]}`},
			[]string{"chats.jsonl:1:", "no customer"}},
		{"agent without an e-mail names the item", map[string]string{
			migrate.AgentsFile: `[{"id":"ok@example.com","name":"OK"},{"id":"not an e-mail","name":"Bad"}]`},
			[]string{"agents.json: item 2:", "e-mail"}},
		{"agent of an unknown group", map[string]string{
			migrate.AgentsFile: `[{"id":"lost@example.com","groups":[{"id":42,"priority":"normal"}]}]`},
			[]string{"agents.json: item 1:", "group 42"}},
		{"not an array", map[string]string{
			migrate.CustomersFile: `{"customers":[]}`},
			[]string{"customers.json: must hold a JSON array"}},
		{"bad item JSON", map[string]string{
			migrate.GroupsFile: `[{"id":7,"name":"Seven"}, {"id":"eight"}]`},
			[]string{"groups.json: item 2:", "not a group"}},
		{"no migration files", map[string]string{"other.txt": "x"},
			[]string{"holds none of"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				check(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
			}
			_, err := migrate.ImportLiveChat(ctx, svc, dir, nil)
			if err == nil {
				t.Fatal("import succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// Nothing of a refused chat was stored.
	if _, err := svc.GetChat(ctx, livechat.System(), "CHATB", ""); !livechat.IsType(err, livechat.TypeNotFound) {
		t.Fatalf("refused chat readable: %v", err)
	}
}

func TestLiveChatExportRefusesExistingFiles(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, epoch)
	dir := t.TempDir()
	check(t, os.WriteFile(filepath.Join(dir, migrate.CustomersFile), []byte("keep me"), 0o644))
	_, err := migrate.ExportLiveChat(context.Background(), svc, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "customers.json") {
		t.Fatalf("export into a used dir: %v", err)
	}
	if b := must[[]byte](t)(os.ReadFile(filepath.Join(dir, migrate.CustomersFile))); string(b) != "keep me" {
		t.Fatalf("existing file overwritten: %q", b)
	}
	entries := must[[]os.DirEntry](t)(os.ReadDir(dir))
	if len(entries) != 1 {
		t.Fatalf("export left %d files, want only the existing one", len(entries))
	}
}

// benchDir writes a LiveChat download of chats chats with events events
// each (two threads, half each), one customer per chat and one agent.
func benchDir(b *testing.B, chats, events int) string {
	b.Helper()
	dir := b.TempDir()
	write := func(name string, v any) {
		body, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(migrate.GroupsFile, []any{})
	write(migrate.AgentsFile, []any{map[string]any{"id": "agent@example.com", "name": "Agent"}})
	at := func(n int) string { return epoch.Add(time.Duration(n) * time.Second).Format(time.RFC3339Nano) }
	var customers []any
	var lines bytes.Buffer
	for c := range chats {
		cid := fmt.Sprintf("00000000-0000-4000-8000-%012d", c)
		customers = append(customers, map[string]any{"id": cid, "type": "customer", "created_at": at(c * 1000)})
		var threads []any
		for th := range 2 {
			tid := fmt.Sprintf("T%05d%d", c, th)
			var evs []any
			for e := range events / 2 {
				author := cid
				if e%2 == 1 {
					author = "agent@example.com"
				}
				evs = append(evs, map[string]any{"id": fmt.Sprintf("%s_%d", tid, e+1), "type": "message", "visibility": "all",
					"author_id": author, "text": strings.Repeat("lorem ipsum ", 8), "created_at": at(c*1000 + th*100 + e + 1)})
			}
			threads = append(threads, map[string]any{"id": tid, "active": th == 1, "created_at": at(c*1000 + th*100), "events": evs})
		}
		body, err := json.Marshal(map[string]any{"id": fmt.Sprintf("C%05d", c), "threads": threads,
			"users": []any{map[string]any{"id": cid, "type": "customer"}, map[string]any{"id": "agent@example.com", "type": "agent"}}})
		if err != nil {
			b.Fatal(err)
		}
		lines.Write(body)
		lines.WriteByte('\n')
	}
	write(migrate.CustomersFile, customers)
	if err := os.WriteFile(filepath.Join(dir, migrate.ChatsFile), lines.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkImportLiveChat imports 200 chats of 20 events into a fresh
// embedded store per iteration.
func BenchmarkImportLiveChat(b *testing.B) {
	dir := benchDir(b, 200, 20)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		svc, _ := newService(b, epoch)
		b.StartTimer()
		rep, err := migrate.ImportLiveChat(ctx, svc, dir, nil)
		if err != nil || rep.Written["events"] != 4000 {
			b.Fatalf("import: %v %+v", err, rep)
		}
	}
}

// BenchmarkExportLiveChat exports 200 chats of 20 events from the embedded store.
func BenchmarkExportLiveChat(b *testing.B) {
	ctx := context.Background()
	svc, _ := newService(b, epoch)
	if _, err := migrate.ImportLiveChat(ctx, svc, benchDir(b, 200, 20), nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := migrate.ExportLiveChat(ctx, svc, filepath.Join(b.TempDir(), "out"), nil)
		if err != nil || rep.Written["events"] != 4000 {
			b.Fatalf("export: %v %+v", err, rep)
		}
	}
}
