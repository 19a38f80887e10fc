package webhooks_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/webhooks"
)

func TestIncomingEventEnvelope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.start(t, webhooks.Config{DeliveredRetention: time.Hour})
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/events"),
		"additional_data": []string{"chat_properties", "chat_presence_user_ids"}}, d)
	chatID := f.chat(t)
	ev := f.send(t, f.customer, chatID, "hello agent")

	waitFor(t, "the incoming_event POST", func() bool { return f.rcv.count("/events") == 1 })
	p := f.rcv.postsTo("/events")[0]
	if p.contentType != "application/json" {
		t.Errorf("Content-Type %q", p.contentType)
	}
	env := p.env
	if env.WebhookID != id || env.SecretKey != "s3cret" || env.Action != "incoming_event" || env.OrganizationID != f.svc.Organization().OrganizationID {
		t.Fatalf("envelope %+v", env)
	}
	for _, k := range []string{"webhook_id", "secret_key", "action", "organization_id", "payload", "additional_data"} {
		if _, ok := p.raw[k]; !ok {
			t.Errorf("envelope lacks %s", k)
		}
	}
	payload := p.raw["payload"].(map[string]any)
	event := payload["event"].(map[string]any)
	if payload["chat_id"] != chatID || payload["thread_id"] != ev.ThreadID || event["id"] != ev.ID || event["text"] != "hello agent" ||
		event["author_id"] != f.customer.ID || event["visibility"] != "all" || event["type"] != "message" {
		t.Fatalf("payload %v", payload)
	}
	add := p.raw["additional_data"].(map[string]any)
	present, _ := add["chat_presence_user_ids"].([]any)
	if !slices.Contains(present, any(f.agent.ID)) {
		t.Errorf("chat_presence_user_ids %v lacks the agent", present)
	}
	if _, ok := add["chat_properties"].(map[string]any); !ok {
		t.Errorf("chat_properties %v", add["chat_properties"])
	}
	waitFor(t, "the delivery to be marked delivered", func() bool {
		ds := f.deliveries(t, id)
		return len(ds) == 1 && ds[0].Status == webhooks.StatusDelivered && ds[0].Attempts == 1
	})
	// The counters move just after the stored status: wait for them too.
	waitFor(t, "the stats to count the delivery", func() bool { return d.Stats().Delivered == 1 })
	if st := d.Stats(); st.Queued != 1 || st.Delivered != 1 || st.Attempts != 1 || st.Retried != 0 {
		t.Fatalf("stats %+v", st)
	}

	// An incoming_chat webhook gets the chat with its thread and users.
	chatHook := f.register(t, map[string]any{"action": "incoming_chat", "url": f.rcv.url("/chats")}, d)
	if err := f.svc.DeactivateChat(context.Background(), f.agent, chatID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResumeChat(context.Background(), f.agent, chatID, livechat.ThreadInput{}, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the incoming_chat POST", func() bool { return f.rcv.count("/chats") == 1 })
	cp := f.rcv.postsTo("/chats")[0]
	chat, _ := cp.raw["payload"].(map[string]any)["chat"].(map[string]any)
	if cp.env.WebhookID != chatHook || chat["id"] != chatID || chat["thread"] == nil || len(chat["users"].([]any)) != 2 {
		t.Fatalf("incoming_chat payload %v", cp.raw["payload"])
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{})
	other, err := f.svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Email: "other@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	hooks := map[string]map[string]any{
		"/all":          nil,
		"/customer":     {"author_type": "customer"},
		"/agent":        {"author_type": "agent"},
		"/with-other":   {"chat_presence": map[string]any{"user_ids": map[string]any{"values": []string{other.ID}}}},
		"/with-agent":   {"chat_presence": map[string]any{"user_ids": map[string]any{"values": []string{f.agent.ID}}}},
		"/not-agent":    {"chat_presence": map[string]any{"user_ids": map[string]any{"exclude_values": []string{f.agent.ID}}}},
		"/mine":         {"only_my_chats": true},
		"/system":       {"source_type": []string{"system"}},
		"/other-client": {"source_type": []string{"other_clients"}},
	}
	for path, filters := range hooks {
		// One client id per registration: a client may register 3 per action.
		req := map[string]any{"action": "incoming_event", "url": f.rcv.url(path), "owner_client_id": "client" + path}
		if path == "/mine" {
			req["owner_client_id"] = "app1"
		}
		if filters != nil {
			req["filters"] = filters
		}
		f.register(t, req, d)
	}
	chatID := f.chat(t)
	f.send(t, f.customer, chatID, "from the customer")
	f.send(t, f.agent, chatID, "from the agent")
	// A chat that came from client app1 (its source property).
	c, err := f.store.Chats().Get(ctx, chatID)
	if err != nil {
		t.Fatal(err)
	}
	c.Properties = livechat.Properties{"source": {"client_id": "app1"}}
	if err := f.store.Chats().Replace(ctx, c.ID, c); err != nil {
		t.Fatal(err)
	}
	f.send(t, f.customer, chatID, "now in app1's chat")
	if _, err := f.svc.SendEvent(ctx, livechat.System(), chatID, livechat.Event{Type: livechat.EventSystemMessage, Text: "system"}, livechat.SendEventOptions{}); err != nil {
		t.Fatal(err)
	}

	want := map[string]int{"/all": 4, "/customer": 2, "/agent": 1, "/with-other": 0, "/with-agent": 4, "/not-agent": 0, "/mine": 2,
		"/system": 1, "/other-client": 3}
	total := 0
	for _, n := range want {
		total += n
	}
	// Publish wrote every delivery before returning; wait for them to go out.
	waitFor(t, "every delivery", func() bool { return d.Stats().Delivered == uint64(total) })
	for path, n := range want {
		if got := f.rcv.count(path); got != n {
			t.Errorf("%s got %d POSTs, want %d", path, got, n)
		}
	}
	if st := d.Stats(); st.Queued != uint64(total) {
		t.Errorf("queued %d, want %d", st.Queued, total)
	}
}

func TestLicenseWebhooksDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.start(t, webhooks.Config{RefreshInterval: 20 * time.Millisecond, DeliveredRetention: time.Hour})
	id := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/x")}, d)
	chatID := f.chat(t)
	f.callAPI(t, f.owner, "disable_license_webhooks", map[string]any{"owner_client_id": "app1"})
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.send(t, f.customer, chatID, "unheard")
	if n := len(f.deliveries(t, id)); n != 0 {
		t.Fatalf("%d deliveries while license webhooks are disabled", n)
	}
	f.callAPI(t, f.owner, "enable_license_webhooks", map[string]any{"owner_client_id": "app1"})
	// No explicit Refresh: the refresher sees the new revision by itself.
	waitFor(t, "the cache to reload", func() bool {
		f.send(t, f.customer, chatID, "heard")
		return len(f.deliveries(t, id)) > 0
	})
}

func TestBotWebhooksOnlyWhileBotOnline(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{DeliveredRetention: time.Hour})
	bot, err := f.svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Name: "Bot", Bot: true, OwnerClientID: "botapp"})
	if err != nil {
		t.Fatal(err)
	}
	botHook := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/bot"), "type": "bot", "owner_client_id": "botapp"}, d)
	licenseHook := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/license"), "owner_client_id": "botapp"}, d)
	orphanHook := f.register(t, map[string]any{"action": "incoming_event", "url": f.rcv.url("/orphan"), "type": "bot", "owner_client_id": "nobots"}, d)
	chatID := f.chat(t)
	count := func(id string) int { return len(f.deliveries(t, id)) }

	f.send(t, f.customer, chatID, "bot not accepting chats, but online")
	if count(botHook) != 1 || count(licenseHook) != 1 || count(orphanHook) != 0 {
		t.Fatalf("online bot: bot %d, license %d, orphan %d", count(botHook), count(licenseHook), count(orphanHook))
	}
	if err := f.svc.SetRoutingStatus(ctx, f.owner, bot.ID, livechat.RoutingOffline); err != nil {
		t.Fatal(err)
	}
	f.send(t, f.customer, chatID, "bot offline")
	if count(botHook) != 1 || count(licenseHook) != 2 {
		t.Fatalf("offline bot: bot %d, license %d", count(botHook), count(licenseHook))
	}
	// A reload reads the same from the store.
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	f.send(t, f.customer, chatID, "still offline")
	if count(botHook) != 1 {
		t.Fatalf("offline bot after reload: %d", count(botHook))
	}
	if err := f.svc.SetRoutingStatus(ctx, f.owner, bot.ID, livechat.RoutingAccepting); err != nil {
		t.Fatal(err)
	}
	f.send(t, f.customer, chatID, "bot back")
	if count(botHook) != 2 {
		t.Fatalf("bot back online: %d", count(botHook))
	}
	waitFor(t, "the bot webhook POSTs", func() bool { return f.rcv.count("/bot") == 2 })
}

func TestOtherActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	d := f.start(t, webhooks.Config{DeliveredRetention: time.Hour})
	bot, err := f.svc.CreateAgent(ctx, livechat.System(), livechat.AgentInput{Name: "Bot", Bot: true, OwnerClientID: "app1"})
	if err != nil {
		t.Fatal(err)
	}
	statusHook := f.register(t, map[string]any{"action": "routing_status_set", "url": f.rcv.url("/status"),
		"filters": map[string]any{"agent_ids": map[string]any{"values": []string{bot.ID}}}}, d)
	fieldsHook := f.register(t, map[string]any{"action": "customer_session_fields_updated", "url": f.rcv.url("/fields")}, d)
	usersHook := f.register(t, map[string]any{"action": "user_added_to_chat", "url": f.rcv.url("/users")}, d)
	deactHook := f.register(t, map[string]any{"action": "chat_deactivated", "url": f.rcv.url("/closed"),
		"filters": map[string]any{"source_type": []string{"other_clients"}}}, d)
	myHook := f.register(t, map[string]any{"action": "thread_tagged", "url": f.rcv.url("/tagged"),
		"filters": map[string]any{"source_type": []string{"my_client"}, "chat_presence": map[string]any{"my_bots": true}}}, d)

	for _, st := range []struct{ id, status string }{{f.agent.ID, livechat.RoutingAccepting}, {bot.ID, livechat.RoutingAccepting}} {
		if err := f.svc.SetRoutingStatus(ctx, f.owner, st.id, st.status); err != nil {
			t.Fatal(err)
		}
	}
	chatID := f.chat(t)
	if err := f.svc.AddUserToChat(ctx, f.owner, chatID, bot.ID, livechat.UserAgent, livechat.VisibilityAll, true); err != nil {
		t.Fatal(err)
	}
	fields := []map[string]string{{"plan": "gold"}}
	if _, err := f.svc.UpdateCustomer(ctx, f.customer, f.customer.ID, livechat.CustomerInput{SessionFields: fields}); err != nil {
		t.Fatal(err)
	}
	view, err := f.svc.GetChat(ctx, f.owner, chatID, "")
	if err != nil {
		t.Fatal(err)
	}
	botActor := livechat.AgentActor(bot)
	if err := f.svc.TagThread(ctx, botActor, chatID, view.Thread.ID, "vip", true); err != nil {
		t.Fatalf("bot tags the thread: %v", err)
	}
	if err := f.svc.TagThread(ctx, f.agent, chatID, view.Thread.ID, "other", true); err != nil {
		t.Fatalf("agent tags the thread: %v", err)
	}
	if err := f.svc.DeactivateChat(ctx, f.agent, chatID, false); err != nil {
		t.Fatal(err)
	}

	payloadOf := func(id string) []map[string]any {
		var out []map[string]any
		for _, del := range f.deliveries(t, id) {
			var env map[string]any
			if err := jsonUnmarshal(del.Body, &env); err != nil {
				t.Fatal(err)
			}
			out = append(out, env["payload"].(map[string]any))
		}
		return out
	}
	if ps := payloadOf(statusHook); len(ps) != 1 || ps[0]["agent_id"] != bot.ID || ps[0]["status"] != livechat.RoutingAccepting {
		t.Errorf("routing_status_set: %v", ps)
	}
	if ps := payloadOf(fieldsHook); len(ps) != 1 || ps[0]["id"] != f.customer.ID ||
		ps[0]["active_chat"].(map[string]any)["chat_id"] != chatID || len(ps[0]["session_fields"].([]any)) != 1 {
		t.Errorf("customer_session_fields_updated: %v", ps)
	}
	if ps := payloadOf(usersHook); len(ps) != 1 || ps[0]["user_type"] != "agent" || ps[0]["user"].(map[string]any)["id"] != bot.ID || ps[0]["requester_id"] != f.owner.ID {
		t.Errorf("user_added_to_chat: %v", ps)
	}
	if ps := payloadOf(deactHook); len(ps) != 1 || ps[0]["chat_id"] != chatID || ps[0]["user_id"] != f.agent.ID {
		t.Errorf("chat_deactivated: %v", ps)
	}
	if ps := payloadOf(myHook); len(ps) != 1 || ps[0]["tag"] != "vip" {
		t.Errorf("thread_tagged from my bot: %v", ps)
	}
	waitFor(t, "every delivery", func() bool { return d.Stats().Delivered == 5 })
}

func TestActionsFor(t *testing.T) {
	t.Parallel()
	for kind, want := range map[livechat.Kind][]string{
		livechat.KindIncomingChat:                {"incoming_chat"},
		livechat.KindChatDeactivated:             {"chat_deactivated"},
		livechat.KindIncomingEvent:               {"incoming_event"},
		livechat.KindEventUpdated:                {"event_updated"},
		livechat.KindUserAddedToChat:             {"user_added_to_chat"},
		livechat.KindUserRemovedFromChat:         {"user_removed_from_chat"},
		livechat.KindChatAccessUpdated:           {"chat_access_updated"},
		livechat.KindChatAccessGranted:           {"chat_access_granted"},
		livechat.KindChatTransferred:             {"chat_transferred"},
		livechat.KindChatPropertiesUpdated:       {"chat_properties_updated"},
		livechat.KindEventPropertiesDelete:       {"event_properties_deleted"},
		livechat.KindThreadUntagged:              {"thread_untagged"},
		livechat.KindEventsMarkedAsSeen:          {"events_marked_as_seen"},
		livechat.KindIncomingRichMessagePostback: {"incoming_rich_message_postback"},
		livechat.KindRoutingStatusSet:            {"routing_status_set"},
		livechat.KindIncomingCustomer:            {"incoming_customer"},
		livechat.KindCustomerUpdated:             {"customer_session_fields_updated"},
		livechat.KindAgentCreated:                {"agent_created"},
		livechat.KindGroupCreated:                {"group_created"},
		livechat.KindChatAssigned:                nil,
		livechat.KindChatFollowed:                nil,
		livechat.KindQueuePositionsUpdated:       nil,
		livechat.KindIncomingTypingIndicator:     nil,
		livechat.KindIncomingMulticast:           nil,
	} {
		if got := webhooks.ActionsFor(kind); !slices.Equal(got, want) {
			t.Errorf("%s → %v, want %v", kind, got, want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	for _, cfg := range []webhooks.Config{
		{Schedule: []time.Duration{time.Second, 0}},
		{Timeout: -time.Second},
		{Workers: -1},
	} {
		if _, err := webhooks.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	for in, want := range map[string][]time.Duration{"": nil, "none": {}, "10s, 1m": {10 * time.Second, time.Minute}} {
		got, err := webhooks.ParseSchedule(in)
		if err != nil || !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("ParseSchedule(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"10", "1s,-1s", "soon"} {
		if _, err := webhooks.ParseSchedule(in); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", in)
		}
	}
	d, err := webhooks.New(webhooks.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.RetryDue(context.Background()); err == nil {
		t.Error("RetryDue before Start worked")
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
}
