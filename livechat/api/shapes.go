package api

import (
	"context"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// TimeFormat is LiveChat's timestamp: RFC 3339, UTC, microseconds.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Timestamp formats t the LiveChat way.
func Timestamp(t time.Time) string { return t.UTC().Format(TimeFormat) }

// M is a JSON object under construction.
type M = map[string]any

// Event renders an event for version v.
func Event(e *livechat.Event, v string) M {
	out := M{"id": e.ID, "type": e.Type, "created_at": Timestamp(e.CreatedAt)}
	if v < "3.4" {
		out["recipients"] = e.Visibility
	} else {
		out["visibility"] = e.Visibility
	}
	set := func(k string, val any, ok bool) {
		if ok {
			out[k] = val
		}
	}
	set("author_id", e.AuthorID, e.AuthorID != "")
	set("custom_id", e.CustomID, e.CustomID != "")
	set("properties", e.Properties, len(e.Properties) > 0)
	set("text", e.Text, e.Text != "")
	set("postback", e.Postback, e.Postback != nil)
	set("system_message_type", e.SystemMessageType, e.SystemMessageType != "")
	set("text_vars", e.TextVars, len(e.TextVars) > 0)
	set("url", e.URL, e.URL != "")
	set("name", e.Name, e.Name != "")
	set("content_type", e.ContentType, e.ContentType != "")
	set("size", e.Size, e.Size != 0)
	set("width", e.Width, e.Width != 0)
	set("height", e.Height, e.Height != 0)
	set("thumbnail_url", e.ThumbnailURL, e.ThumbnailURL != "")
	set("thumbnail2x_url", e.Thumbnail2xURL, e.Thumbnail2xURL != "")
	set("alternative_text", e.AlternativeText, e.AlternativeText != "")
	set("form_id", e.FormID, e.FormID != "")
	set("form_type", e.FormType, e.FormType != "" && v >= "3.4")
	set("fields", e.Fields, len(e.Fields) > 0)
	set("template_id", e.TemplateID, e.TemplateID != "")
	set("elements", e.Elements, len(e.Elements) > 0)
	set("content", e.Content, e.Content != nil)
	return out
}

// Thread renders a thread with its events for version v.
func Thread(t *livechat.Thread, events []livechat.Event, v string) M {
	evs := make([]M, 0, len(events))
	for i := range events {
		evs = append(evs, Event(&events[i], v))
	}
	userIDs := t.UserIDs
	if userIDs == nil {
		userIDs = []string{}
	}
	out := M{
		"id": t.ID, "active": t.Active, "user_ids": userIDs, "events": evs,
		"properties": props(t.Properties), "access": access(t.Access), "created_at": Timestamp(t.CreatedAt),
	}
	if len(t.Tags) > 0 {
		out["tags"] = t.Tags
	}
	if t.PreviousThreadID != "" {
		out["previous_thread_id"] = t.PreviousThreadID
	}
	if t.NextThreadID != "" {
		out["next_thread_id"] = t.NextThreadID
	}
	if t.Queue != nil {
		out["queue"] = M{"position": t.Queue.Position, "wait_time": t.Queue.WaitTime, "queued_at": Timestamp(t.Queue.QueuedAt)}
	}
	return out
}

func props(p livechat.Properties) livechat.Properties {
	if p == nil {
		return livechat.Properties{}
	}
	return p
}

func access(a livechat.Access) M {
	ids := a.GroupIDs
	if ids == nil {
		ids = []int{}
	}
	return M{"group_ids": ids}
}

// Users renders a chat's users with their names for version v.
func Users(ctx context.Context, svc *livechat.Service, c *livechat.Chat, v string) ([]M, error) {
	agents, customers, err := svc.ChatUsers(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]M, 0, len(c.Users))
	for _, u := range c.Users {
		m := M{"id": u.ID, "type": u.Type, "present": u.Present, "events_seen_up_to": Timestamp(u.EventsSeenUpTo)}
		if a := agents[u.ID]; a != nil {
			m["name"], m["email"], m["avatar"] = a.Name, a.Email, a.Avatar
			if v >= "3.4" {
				m["visibility"] = u.Visibility
			} else {
				m["routing_status"] = a.RoutingStatus
			}
		}
		if cu := customers[u.ID]; cu != nil {
			if cu.Name != "" {
				m["name"] = cu.Name
			}
			if cu.Email != "" {
				m["email"] = cu.Email
			}
			if cu.Avatar != "" {
				m["avatar"] = cu.Avatar
			}
			m["session_fields"] = cu.SessionFields
		}
		out = append(out, m)
	}
	return out, nil
}

// Chat renders a chat with one thread (when view has one) for the actor.
func Chat(ctx context.Context, svc *livechat.Service, actor livechat.Actor, view *livechat.ChatView, v string) (M, error) {
	users, err := Users(ctx, svc, view.Chat, v)
	if err != nil {
		return nil, err
	}
	out := M{"id": view.Chat.ID, "users": users, "properties": props(view.Chat.Properties), "access": access(view.Chat.Access)}
	if actor.IsAgent() {
		out["is_followed"] = isFollowed(view.Chat, actor.ID)
	}
	if view.Thread != nil {
		out["thread"] = Thread(view.Thread, view.Events, v)
	}
	return out, nil
}

func isFollowed(c *livechat.Chat, id string) bool {
	for _, f := range c.Followers {
		if f == id {
			return true
		}
	}
	return false
}
