package rest_test

import (
	"strings"
	"testing"

	"github.com/chatbridge/chatbridge/livechat"
)

// The routing, status and remaining catalog methods join the method matrix
// (agent_matrix_test.go), so they run over both transports like the others.
// RTM-only (set_away_status, change_push_notifications), 3.3-only
// (grant/revoke_chat_access) and multipart (upload_file) methods have tests
// of their own.
func init() {
	agentMethodCases = append(agentMethodCases, routingMethodCases...)
}

// carl makes one more group-2 agent (a transfer target) and returns its id.
func (f *matrixFixture) carl(t *testing.T) string {
	t.Helper()
	id := "carl" + strings.ToLower(livechat.NewID()) + "@example.com"
	f.e.agentBearer(t, id, 2)
	return id
}

// richChat is a new chat of Ann's with a rich message holding one button.
func (f *matrixFixture) richChat(t *testing.T) (chatRef, string) {
	t.Helper()
	c := f.newChat(t)
	actor, err := f.e.svc.Authenticate(t.Context(), f.ann)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.e.svc.SendEvent(t.Context(), actor, c.chat, livechat.Event{Type: livechat.EventRichMessage, TemplateID: "quick_replies",
		Elements: []any{map[string]any{"title": "Yes?", "buttons": []any{map[string]any{"text": "Yes", "postback_id": "yes", "user_ids": []any{}}}}}}, livechat.SendEventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, ev.ID
}

var routingMethodCases = []methodCase{
	{method: "transfer_chat", bad: map[string]any{"id": 42},
		ok: func(t *testing.T, f *matrixFixture) map[string]any {
			return map[string]any{"id": f.newChat(t).chat, "target": map[string]any{"type": "agent", "ids": []string{f.carl(t)}}, "ignore_agents_availability": true}
		},
		denied: func(t *testing.T, f *matrixFixture) map[string]any {
			return map[string]any{"id": f.newChat(t).chat, "target": map[string]any{"type": "group", "ids": []int{1}}, "ignore_agents_availability": true}
		}},
	chatCase("list_agents_for_transfer", func(c chatRef, _ *matrixFixture) map[string]any { return map[string]any{"chat_id": c.chat} }, map[string]any{"chat_id": 42}),
	{method: "set_routing_status", bad: map[string]any{"status": 5},
		ok: func(*testing.T, *matrixFixture) map[string]any { return map[string]any{"status": "accepting_chats"} },
		denied: func(*testing.T, *matrixFixture) map[string]any {
			return map[string]any{"status": "not_accepting_chats", "agent_id": "ann@example.com"}
		}},
	{method: "list_routing_statuses", bad: map[string]any{"filters": map[string]any{"group_ids": "all"}},
		ok: func(*testing.T, *matrixFixture) map[string]any {
			return map[string]any{"filters": map[string]any{"group_ids": []int{2}}}
		}},
	chatCase("send_typing_indicator", func(c chatRef, _ *matrixFixture) map[string]any {
		return map[string]any{"chat_id": c.chat, "is_typing": true, "visibility": "agents"}
	}, map[string]any{"chat_id": "x"}),
	{method: "multicast", bad: map[string]any{"recipients": map[string]any{}, "content": "x"},
		ok: func(*testing.T, *matrixFixture) map[string]any {
			return map[string]any{"recipients": map[string]any{"agents": map[string]any{"all": true, "groups": []int{2}}}, "content": map[string]any{"hello": "all"}, "type": "note"}
		},
		denied: func(*testing.T, *matrixFixture) map[string]any {
			return map[string]any{"recipients": map[string]any{"agents": map[string]any{"groups": []int{2}}}, "content": 1}
		}},
	{method: "send_rich_message_postback", bad: map[string]any{"chat_id": "x", "thread_id": "y", "event_id": "z", "postback": map[string]any{"id": "yes"}},
		ok: func(t *testing.T, f *matrixFixture) map[string]any {
			c, ev := f.richChat(t)
			return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": ev, "postback": map[string]any{"id": "yes", "toggled": true}}
		},
		denied: func(t *testing.T, f *matrixFixture) map[string]any {
			c, ev := f.richChat(t)
			return map[string]any{"chat_id": c.chat, "thread_id": c.thread, "event_id": ev, "postback": map[string]any{"id": "yes", "toggled": true}}
		}},
	{method: "list_archives", bad: map[string]any{"filters": map[string]any{"query": 5}},
		ok: func(t *testing.T, f *matrixFixture) map[string]any {
			f.newChat(t)
			return map[string]any{"filters": map[string]any{"query": "hi"}, "highlights": map[string]any{}}
		}},
	{method: "list_customers", bad: map[string]any{"sort_by": "shoe_size"},
		ok: func(*testing.T, *matrixFixture) map[string]any {
			return map[string]any{"sort_by": "threads_count", "filters": map[string]any{"chats_count": map[string]any{"gte": 0}}}
		}},
	{method: "follow_customer", bad: map[string]any{"id": 5},
		ok: func(_ *testing.T, f *matrixFixture) map[string]any { return map[string]any{"id": f.cust.ID} },
		denied: func(t *testing.T, f *matrixFixture) map[string]any {
			return map[string]any{"id": f.groupCustomer(t, 2).ID}
		}},
	{method: "unfollow_customer", bad: map[string]any{"id": 5},
		ok: func(_ *testing.T, f *matrixFixture) map[string]any { return map[string]any{"id": f.cust.ID} }},
}

// groupCustomer is a new customer who visits the sites of one group.
func (f *matrixFixture) groupCustomer(t *testing.T, group int) *livechat.Customer {
	t.Helper()
	c, err := f.e.svc.CreateCustomer(t.Context(), livechat.System(), livechat.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	c.GroupIDs = []int{group}
	if err := f.e.store.Customers().Replace(t.Context(), c.ID, c); err != nil {
		t.Fatal(err)
	}
	return c
}
