package bridge

import (
	"context"
	"strings"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Streams (spec §9). A stream subscription is `sub stream-<name>
// [eventName, options]`; options is the legacy useCollection boolean or
// {useCollection, args}, args[0] carrying a visitor's {token} or
// {visitorToken}. The read rule is checked once, at subscribe time (as
// Rocket.Chat does); a refused sub ends with nosub not-allowed. Events
// reach the session through the hub (encode.go), which only hands it
// events of its topics.

// readRule decides whether the session may subscribe eventName and says
// what the subscription is scoped to.
type readRule func(ctx context.Context, c *conn, eventName string, extra map[string]any) (subInfo, error)

var errStreamNotAllowed = &ddp.Error{Code: codeStreamNotAllowed, Reason: "Not allowed"}

func (b *Bridge) streams() map[string]readRule {
	return map[string]readRule{
		streamRoomMessages: func(ctx context.Context, c *conn, ev string, extra map[string]any) (subInfo, error) {
			if ev == myMessages {
				return loggedIn(c)
			}
			return b.roomRule(ctx, c, ev, extra)
		},
		streamNotifyRoom: func(ctx context.Context, c *conn, ev string, extra map[string]any) (subInfo, error) {
			rid, _, ok := strings.Cut(ev, "/")
			if !ok || rid == "" {
				return subInfo{}, errStreamNotAllowed
			}
			return b.roomRule(ctx, c, rid, extra)
		},
		streamLivechatRoom: b.roomRule,
		streamRoomData:     b.roomRule,
		streamNotifyUser: func(_ context.Context, c *conn, ev string, _ map[string]any) (subInfo, error) {
			uid, _, _ := strings.Cut(ev, "/")
			_, me, ok := c.agent()
			if !ok || uid != me {
				return subInfo{}, errStreamNotAllowed
			}
			return subInfo{userScoped: true}, nil
		},
		streamNotifyLogged: func(_ context.Context, c *conn, _ string, _ map[string]any) (subInfo, error) { return loggedIn(c) },
		streamQueue:        func(_ context.Context, c *conn, _ string, _ map[string]any) (subInfo, error) { return loggedIn(c) },
		// Presence of other users is not tracked per user: subscribing works, nothing is sent.
		streamPresence: func(_ context.Context, c *conn, _ string, _ map[string]any) (subInfo, error) { return loggedIn(c) },
		"stream-roles": func(_ context.Context, c *conn, _ string, _ map[string]any) (subInfo, error) { return loggedIn(c) },
		// Public settings never change while chatbridge runs.
		streamNotifyAll: func(context.Context, *conn, string, map[string]any) (subInfo, error) { return subInfo{}, nil },
		// Write-only relay: nobody reads it.
		"stream-notify-room-users": func(context.Context, *conn, string, map[string]any) (subInfo, error) {
			return subInfo{}, errStreamNotAllowed
		},
	}
}

func loggedIn(c *conn) (subInfo, error) {
	if _, _, ok := c.agent(); !ok {
		return subInfo{}, errStreamNotAllowed
	}
	return subInfo{userScoped: true}, nil
}

// roomRule lets agents who may read the chat subscribe, and the chat's
// visitor by token. A visitor may subscribe to a room id no chat has yet:
// its widget chose the id and its first message will create the chat
// (sendMessageLivechat); the hub only ever hands a visitor session events
// of its own chats.
func (b *Bridge) roomRule(ctx context.Context, c *conn, rid string, extra map[string]any) (subInfo, error) {
	if rid == "" {
		return subInfo{}, errStreamNotAllowed
	}
	if actor, _, ok := c.agent(); ok {
		if _, err := b.svc.ReadChat(ctx, actor, rid); err != nil {
			return subInfo{}, errStreamNotAllowed
		}
		return subInfo{room: rid, userScoped: true}, nil
	}
	token := tokenOf(extra)
	if token == "" {
		return subInfo{}, errStreamNotAllowed
	}
	cust, err := b.identifyVisitor(ctx, c, token, nil)
	if err != nil {
		return subInfo{}, errStreamNotAllowed
	}
	if _, err := b.svc.ReadChat(ctx, livechat.CustomerActor(cust), rid); err != nil && !b.unusedChatID(ctx, rid) {
		return subInfo{}, errStreamNotAllowed
	}
	return subInfo{room: rid}, nil
}

// unusedChatID says whether no chat has id rid (yet).
func (b *Bridge) unusedChatID(ctx context.Context, rid string) bool {
	_, err := b.svc.Store().Chats().Get(ctx, rid)
	return livechat.IsType(livechat.AsError(err), livechat.TypeNotFound)
}

// tokenOf reads a visitor token from a stream's extra argument.
func tokenOf(extra map[string]any) string {
	for _, k := range []string{"token", "visitorToken"} {
		if s, ok := extra[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// stream is the publication of one stream.
func (b *Bridge) stream(name string, rule readRule) ddp.PublishHandler {
	return func(ctx context.Context, sub *ddp.Subscription) error {
		params := sub.Params()
		var eventName string
		if err := params.Decode(&eventName); err != nil {
			return err
		}
		if eventName == "" {
			return &ddp.Error{Code: codeInvalidEventName, Reason: "Invalid event name"}
		}
		useCollection, extra := streamOptions(params)
		c := b.connOf(sub.Session())
		info, err := rule(ctx, c, eventName, extra)
		if err != nil {
			return err
		}
		info.key = streamKey(name, eventName)
		c.addStream(sub, info)
		if useCollection {
			if err := sub.Added(name, "id", map[string]string{"eventName": eventName}); err != nil {
				return err
			}
		}
		sub.Ready()
		return nil
	}
}

// streamOptions reads a stream sub's second parameter.
func streamOptions(p ddp.Params) (useCollection bool, extra map[string]any) {
	v, err := p.Value(1)
	if err != nil {
		return false, nil
	}
	switch o := v.(type) {
	case bool:
		return o, nil
	case map[string]any:
		useCollection, _ = o["useCollection"].(bool)
		if args, ok := o["args"].([]any); ok && len(args) > 0 {
			extra, _ = args[0].(map[string]any)
		}
	}
	return useCollection, extra
}

// notifyRoom is the stream-notify-room method: a client emitting a room
// event. Typing (<rid>/user-activity and the legacy <rid>/typing) goes to
// the chat's other users through the core; other events are not relayed.
// As in Rocket.Chat, failures are silent.
func (b *Bridge) notifyRoom(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var eventName string
	if err := inv.Params.Decode(&eventName); err != nil {
		return nil, nil
	}
	rid, event, _ := strings.Cut(eventName, "/")
	var typing bool
	var extra map[string]any
	switch event {
	case "user-activity":
		var activities []string
		_ = inv.Params.Decode(nil, nil, &activities, &extra)
		for _, a := range activities {
			typing = typing || a == "user-typing"
		}
	case "typing":
		_ = inv.Params.Decode(nil, nil, &typing, &extra)
	default:
		return nil, nil
	}
	c := b.connOf(inv.Session)
	actor, ok := c.caller()
	if token := tokenOf(extra); !ok && token != "" {
		if cust, err := b.identifyVisitor(ctx, c, token, nil); err == nil {
			actor, ok = livechat.CustomerActor(cust), true
		}
	}
	if !ok {
		return nil, nil
	}
	if err := b.svc.SendTypingIndicator(ctx, actor, rid, livechat.VisibilityAll, typing); err != nil {
		b.log.Debug("bridge: typing not relayed", "chat_id", rid, "err", err)
	}
	return nil, nil
}
