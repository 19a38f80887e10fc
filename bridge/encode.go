package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Domain events → Rocket.Chat stream messages (spec §9, §10).
//
//	incoming_event         stream-room-messages <rid> and __my_messages__ [message];
//	                       rooms-changed updated (lm, lastMessage); subscriptions-changed
//	                       updated for chat users (unread); <uid>/notification for chat
//	                       users other than the author
//	event_updated          edited: stream-room-messages [message];
//	                       deleted: stream-notify-room <rid>/deleteMessage [{_id}]
//	event_properties_*     stream-room-messages [message] (reactions)
//	incoming_chat          stream-room-messages: livechat-started (_id = thread id) and the
//	                       thread's first events; rooms-changed inserted (new chat) or
//	                       updated; subscriptions-changed inserted; a queued chat is an
//	                       inquiry: livechat:inquiry added, queue observer added
//	chat_assigned          rooms-changed and subscriptions-changed inserted (the assignee)
//	chat_deactivated       rooms-changed updated (open unset, closedAt);
//	                       subscriptions-changed removed; inquiry removed
//	user_added_to_chat     rooms-changed, subscriptions-changed updated; an agent:
//	                       stream-livechat-room agentData, inquiry removed
//	user_removed_from_chat, chat_transferred, chat_access_updated,
//	chat_properties_*      rooms-changed (removed for agents who lost access),
//	                       subscriptions-changed; transfer: agentData
//	queue_positions_updated stream-livechat-room queueData
//	incoming_typing_indicator, incoming_sneak_peek
//	                       stream-notify-room <rid>/user-activity [username, ["user-typing"]|[]]
//	                       and legacy <rid>/typing [username, bool]
//	events_marked_as_seen  subscriptions-changed updated (the reader)
//	routing_status_set     stream-notify-logged user-status [[uid, username, status]]
//
// Everything that does not depend on who receives it is built once per
// event (parts, kept in memo); encodeAgent adds what depends on the agent.

// encodeTimeout bounds the store reads one encoding makes.
const encodeTimeout = 5 * time.Second

// Stream collections (sub names).
const (
	streamRoomMessages = "stream-room-messages"
	streamNotifyRoom   = "stream-notify-room"
	streamNotifyUser   = "stream-notify-user"
	streamNotifyLogged = "stream-notify-logged"
	streamNotifyAll    = "stream-notify-all"
	streamLivechatRoom = "stream-livechat-room"
	streamRoomData     = "stream-room-data"
	streamQueue        = "stream-livechat-inquiry-queue-observer"
	streamPresence     = "stream-user-presence"
	myMessages         = "__my_messages__"
	inquiryCollection  = "rocketchat_livechat_inquiry"
)

// Rocket.Chat change actions.
const (
	actionInserted = "inserted"
	actionUpdated  = "updated"
	actionRemoved  = "removed"
)

type streamEvent struct {
	EventName string `json:"eventName"`
	Args      []any  `json:"args"`
}

// streamFrame is a stream event: `changed` on the stream's collection with
// the constant document id "id".
func streamFrame(stream, eventName string, args ...any) ([]byte, error) {
	return ddp.EncodeChanged(stream, "id", streamEvent{EventName: eventName, Args: args}, nil)
}

// parts is what one domain event becomes for every audience.
type parts struct {
	chat   *livechat.Chat    // the chat after the event; nil for chat-less events
	msgs   []json.RawMessage // messages the event adds or changes
	shared bundle            // entries for agents and visitors
	agents bundle            // entries for agents only
	// mine are the __my_messages__ frames of msgs, for agents who are not
	// ([0]) and who are ([1]) users of the chat (roomParticipant).
	mine [2][][]byte
	// roomAction is the rooms-changed action for agents who may read chat;
	// roomArgs its encoded args [action, room], roomGone those for agents
	// who lost access (["removed", {_id}]).
	roomAction         string
	roomArgs, roomGone []byte
	// subAction is the subscriptions-changed action; subFor limits it to
	// chat users (subChatUsers) or one agent (requester).
	subAction string
	subFor    int
	requester string
	// notify is the message chat users other than its author are notified of.
	notify *message
	// thread is the chat's active thread after the event, when known.
	thread *threadState
}

const (
	subEveryone = iota
	subChatUsers
	subRequester
)

// memo keeps the parts of recent events: the hub encodes one event for
// each audience in turn, and they share the parts. A small ring of events
// (the one being published, and a few published concurrently).
type memo struct {
	mu   sync.Mutex
	ring [memoSize]*memoEntry
	next int
	by   map[*livechat.DomainEvent]*memoEntry
}

const memoSize = 64

type memoEntry struct {
	ev   *livechat.DomainEvent
	once sync.Once
	p    *parts
}

func newMemo() *memo { return &memo{by: make(map[*livechat.DomainEvent]*memoEntry, memoSize)} }

func (m *memo) entry(ev *livechat.DomainEvent) *memoEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.by[ev]; e != nil {
		return e
	}
	if old := m.ring[m.next]; old != nil {
		delete(m.by, old.ev)
	}
	e := &memoEntry{ev: ev}
	m.ring[m.next] = e
	m.next = (m.next + 1) % memoSize
	m.by[ev] = e
	return e
}

func (b *Bridge) partsOf(ctx context.Context, ev *livechat.DomainEvent) *parts {
	e := b.memo.entry(ev)
	e.once.Do(func() { e.p = b.buildParts(ctx, ev) })
	return e.p
}

// encodeVisitor is a visitor session's bundle: the user-independent room
// streams.
func (b *Bridge) encodeVisitor(ctx context.Context, ev *livechat.DomainEvent) ([]byte, error) {
	return b.partsOf(ctx, ev).shared.bytes(), nil
}

// encodeAgent is the bundle of agent actor's sessions (uid its Rocket.Chat id).
func (b *Bridge) encodeAgent(ctx context.Context, ev *livechat.DomainEvent, actor livechat.Actor, uid string) ([]byte, error) {
	p := b.partsOf(ctx, ev)
	out := bundle{b: make([]byte, 0, len(p.shared.b)+len(p.agents.b)+256)}
	out.b = append(append(out.b, p.shared.b...), p.agents.b...)
	c := p.chat
	if c == nil {
		return out.bytes(), nil
	}
	a := actor.Agent
	canRead := livechat.CanRead(actor, c)
	user := c.User(a.ID)
	if canRead {
		participant := 0
		if user != nil {
			participant = 1
		}
		for _, f := range p.mine[participant] {
			out.add(entryFrame, streamKey(streamRoomMessages, myMessages), f)
		}
	}
	if p.roomAction != "" {
		args := p.roomArgs
		if !canRead {
			args = p.roomGone
		}
		out.add(entryFrame, streamKey(streamNotifyUser, uid+"/rooms-changed"), userStreamFrame(uid, "/rooms-changed", args))
	}
	if p.subAction != "" && (p.subFor == subEveryone || p.subFor == subChatUsers && user != nil || p.subFor == subRequester && p.requester == a.ID) {
		var arg any
		action := p.subAction
		switch {
		case !canRead || action == actionRemoved:
			action = actionRemoved
			arg = map[string]any{"_id": subscriptionID(c.ID, uid), "rid": c.ID, "u": agentPerson(a).ref, "t": roomLivechat}
		default:
			arg = b.toSubscription(ctx, c, a, p.thread)
		}
		f, err := streamFrame(streamNotifyUser, uid+"/subscriptions-changed", action, arg)
		if err != nil {
			return nil, err
		}
		out.add(entryFrame, streamKey(streamNotifyUser, uid+"/subscriptions-changed"), f)
	}
	if n := p.notify; n != nil && user != nil && n.U.ID != uid {
		_, roomName := b.visitorOf(ctx, c)
		f, err := streamFrame(streamNotifyUser, uid+"/notification", notification(n, roomName))
		if err != nil {
			return nil, err
		}
		out.add(entryFrame, streamKey(streamNotifyUser, uid+"/notification"), f)
	}
	return out.bytes(), nil
}

// userStreamFrame is a stream-notify-user event of user uid with encoded
// args: the one frame every agent audience makes for itself (rooms-changed
// after every message), so it is spliced rather than encoded.
func userStreamFrame(uid, event string, args []byte) []byte {
	const head = `{"msg":"changed","collection":"` + streamNotifyUser + `","id":"id","fields":{"eventName":`
	b := make([]byte, 0, len(head)+len(uid)+len(event)+len(args)+16)
	b = append(b, head...)
	if plainJSONString(uid) {
		b = append(append(append(append(b, '"'), uid...), event...), '"')
	} else {
		q, _ := json.Marshal(uid + event)
		b = append(b, q...)
	}
	b = append(b, `,"args":`...)
	b = append(b, args...)
	return append(b, "}}"...)
}

// plainJSONString says whether s needs no escaping inside a JSON string.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// notification is the desktop notification of message m (spec §11.7).
func notification(m *message, roomName string) map[string]any {
	title := m.U.Name
	if title == "" {
		title = m.U.Username
	}
	return map[string]any{"title": title, "text": m.Msg, "payload": map[string]any{
		"_id": m.ID, "rid": m.RID, "sender": m.U, "type": roomLivechat, "name": roomName,
		"message": map[string]any{"msg": m.Msg},
	}}
}

// buildParts turns ev into its audience-independent parts. Failures to
// read the store are logged and leave the parts they would have made out.
func (b *Bridge) buildParts(ctx context.Context, ev *livechat.DomainEvent) *parts {
	p := &parts{}
	fail := func(what string, err error) {
		b.log.Warn("bridge: push not fully encoded", "kind", string(ev.Kind), "chat_id", ev.ChatID, "part", what, "err", err)
	}
	frame := func(bu *bundle, stream, eventName string, args ...any) {
		f, err := streamFrame(stream, eventName, args...)
		if err != nil {
			fail(stream, err)
			return
		}
		bu.add(entryFrame, streamKey(stream, eventName), f)
	}
	addMessage := func(m message) {
		raw, err := ddp.EncodeEJSON(m)
		if err != nil {
			fail("message", err)
			return
		}
		p.msgs = append(p.msgs, raw)
		frame(&p.shared, streamRoomMessages, m.RID, json.RawMessage(raw))
		roomName := ""
		if p.chat != nil {
			_, roomName = b.visitorOf(ctx, p.chat)
		}
		for i, participant := range []bool{false, true} {
			f, err := streamFrame(streamRoomMessages, myMessages, json.RawMessage(raw),
				map[string]any{"roomParticipant": participant, "roomType": roomLivechat, "roomName": roomName})
			if err != nil {
				fail("message", err)
				return
			}
			p.mine[i] = append(p.mine[i], f)
		}
	}
	loadChat := func() {
		c, err := b.svc.Store().Chats().Get(ctx, ev.ChatID)
		if err != nil {
			fail("chat", err)
			return
		}
		p.chat = c
	}
	room := func(action string, last *message) {
		if p.chat == nil {
			return
		}
		raw, err := ddp.EncodeEJSON(b.toRoom(ctx, p.chat, last))
		if err != nil {
			fail("room", err)
			return
		}
		args, err1 := ddp.EncodeEJSON([]any{action, json.RawMessage(raw)})
		gone, err2 := ddp.EncodeEJSON([]any{actionRemoved, map[string]string{"_id": p.chat.ID}})
		if err := errors.Join(err1, err2); err != nil {
			fail("room", err)
			return
		}
		p.roomAction, p.roomArgs, p.roomGone = action, args, gone
		frame(&p.agents, streamRoomData, p.chat.ID, json.RawMessage(raw))
	}
	agentData := func(agentID string) {
		if pe, ok := b.people.get(ctx, agentID); ok && pe.agent != nil {
			frame(&p.shared, streamLivechatRoom, ev.ChatID, map[string]any{"type": "agentData", "data": pe.ref})
		}
	}
	inquiryRemoved := func(threadID string) {
		if threadID == "" {
			return
		}
		p.agents.add(entryInquiryRemoved, threadID, nil)
		removed := map[string]any{"_id": threadID, "rid": ev.ChatID, "type": actionRemoved, "clientAction": actionRemoved}
		frame(&p.agents, streamQueue, "public", removed)
		if p.chat != nil {
			for _, g := range p.chat.Access.GroupIDs {
				if g != 0 {
					frame(&p.agents, streamQueue, "department/"+strconv.Itoa(g), removed)
				}
			}
		}
	}

	switch d := ev.Data.(type) {
	case livechat.IncomingEventData:
		if d.Event == nil {
			break
		}
		loadChat()
		switch {
		case ev.Kind == livechat.KindEventUpdated && livechat.EventDeleted(d.Event):
			frame(&p.shared, streamNotifyRoom, ev.ChatID+"/deleteMessage", map[string]string{"_id": d.Event.ID})
			room(actionUpdated, nil)
		case ev.Kind == livechat.KindEventUpdated:
			addMessage(b.toMessage(ctx, d.Event))
		default: // incoming_event
			m := b.toMessage(ctx, d.Event)
			addMessage(m)
			if p.chat != nil && p.chat.ActiveThreadID == d.Event.ThreadID {
				if t, err := b.svc.Store().Threads().Get(ctx, d.Event.ThreadID); err == nil {
					p.thread = &threadState{id: t.ID, events: t.EventCount}
					b.unreads.advance(p.chat, d.Event, *p.thread)
				}
			}
			room(actionUpdated, &m)
			p.subAction, p.subFor = actionUpdated, subChatUsers
			if d.Event.Type != livechat.EventSystemMessage {
				p.notify = &m
			}
		}
	case livechat.PropertiesData:
		if ev.Kind == livechat.KindEventPropertiesUpdate && d.EventID != "" {
			loadChat()
			b.eventChanged(ctx, d.EventID, addMessage, fail)
		} else if ev.Kind == livechat.KindChatPropertiesUpdated {
			loadChat()
			room(actionUpdated, nil)
		}
	case livechat.PropertiesDeletedData:
		if ev.Kind == livechat.KindEventPropertiesDelete && d.EventID != "" {
			loadChat()
			b.eventChanged(ctx, d.EventID, addMessage, fail)
		} else if ev.Kind == livechat.KindChatPropertiesDeleted {
			loadChat()
			room(actionUpdated, nil)
		}
	case livechat.IncomingChatData:
		if d.Chat == nil {
			break
		}
		p.chat = d.Chat
		if d.Thread != nil {
			addMessage(b.threadStarted(ctx, d.Chat, d.Thread))
		}
		for i := range d.Events {
			e := d.Events[i] // a copy: the event's data is shared with every encoder
			e.ChatID = d.Chat.ID
			addMessage(b.toMessage(ctx, &e))
		}
		action := actionUpdated
		if d.Chat.ThreadCount <= 1 {
			action = actionInserted
		}
		room(action, nil)
		p.subAction = actionInserted
		if queued(d.Chat) && d.Thread != nil {
			first := ""
			for _, e := range d.Events {
				if e.Type == livechat.EventMessage {
					first = e.Text
					break
				}
			}
			queuedAt := d.Thread.CreatedAt
			if d.Thread.Queue != nil {
				queuedAt = d.Thread.Queue.QueuedAt
			}
			b.inquiryAdded(p, d.Chat, b.toInquiry(ctx, d.Chat, d.Thread.ID, queuedAt, first), frame, fail)
		}
	case livechat.ChatAssignedData:
		if d.Chat == nil {
			break
		}
		p.chat = d.Chat
		room(actionInserted, nil)
		p.subAction = actionInserted
	case livechat.ChatDeactivatedData:
		loadChat()
		room(actionUpdated, nil)
		p.subAction = actionRemoved
		inquiryRemoved(ev.ThreadID)
	case livechat.UserChangeData:
		loadChat()
		room(actionUpdated, nil)
		p.subAction = actionUpdated
		if ev.Kind == livechat.KindUserAddedToChat && d.User.Type == livechat.UserAgent {
			agentData(d.User.ID)
			inquiryRemoved(ev.ThreadID)
		}
	case livechat.ChatTransferredData:
		loadChat()
		room(actionUpdated, nil)
		p.subAction = actionUpdated
		if len(d.TransferredTo.AgentIDs) > 0 {
			agentData(d.TransferredTo.AgentIDs[0])
		}
		if d.Queue != nil && p.chat != nil && queued(p.chat) { // back in the queue: an inquiry again
			if inq, err := b.queuedInquiry(ctx, p.chat); err == nil {
				b.inquiryAdded(p, p.chat, inq, frame, fail)
			} else {
				fail("inquiry", err)
			}
		}
	case livechat.AccessData:
		if ev.Kind == livechat.KindChatAccessUpdated {
			loadChat()
			room(actionUpdated, nil)
			p.subAction = actionUpdated
		}
	case livechat.QueuePositionsData:
		for _, q := range d.Positions {
			frame(&p.shared, streamLivechatRoom, q.ChatID, map[string]any{"type": "queueData",
				"data": map[string]any{"position": q.Queue.Position, "estimatedWaitTimeSeconds": q.Queue.WaitTime}})
		}
	case livechat.TypingIndicatorData:
		b.typing(ctx, &p.shared, ev.ChatID, d.AuthorID, d.IsTyping, frame)
	case livechat.SneakPeekData:
		b.typing(ctx, &p.shared, ev.ChatID, d.AuthorID, d.Text != "", frame)
	case livechat.RoutingStatusData:
		if pe, ok := b.people.get(ctx, d.AgentID); ok && pe.agent != nil {
			status := presenceOf(d.Status)
			frame(&p.agents, streamNotifyLogged, "user-status", []any{pe.ref.ID, pe.ref.Username, statusNumber(status), ""})
		}
	case time.Time: // events_marked_as_seen
		if ev.Kind == livechat.KindEventsMarkedAsSeen {
			loadChat()
			p.subAction, p.subFor, p.requester = actionUpdated, subRequester, ev.RequesterID
		}
	}
	return p
}

// eventChanged re-sends an event whose properties changed (reactions).
func (b *Bridge) eventChanged(ctx context.Context, eventID string, addMessage func(message), fail func(string, error)) {
	e, err := b.svc.Store().Events().Get(ctx, eventID)
	if err != nil {
		fail("event", err)
		return
	}
	if livechat.EventDeleted(e) {
		return
	}
	addMessage(b.toMessage(ctx, e))
}

// typing is a typing indicator in both of Rocket.Chat's forms.
func (b *Bridge) typing(ctx context.Context, bu *bundle, chatID, authorID string, on bool, frame func(*bundle, string, string, ...any)) {
	pe, _ := b.people.get(ctx, authorID)
	activity := []string{}
	if on {
		activity = []string{"user-typing"}
	}
	frame(bu, streamNotifyRoom, chatID+"/user-activity", pe.ref.Username, activity, map[string]any{})
	frame(bu, streamNotifyRoom, chatID+"/typing", pe.ref.Username, on)
}

// inquiryAdded announces a queued thread as an inquiry.
func (b *Bridge) inquiryAdded(p *parts, c *livechat.Chat, inq inquiry, frame func(*bundle, string, string, ...any), fail func(string, error)) {
	raw, err := ddp.EncodeEJSON(inq)
	if err != nil {
		fail("inquiry", err)
		return
	}
	p.agents.add(entryInquiryAdded, inq.ID, raw)
	v, err := ddp.DecodeEJSON(raw) // dates back to time.Time, so they re-encode as $date
	obs, ok := v.(map[string]any)
	if err != nil || !ok {
		fail("inquiry", err)
		return
	}
	obs["type"], obs["clientAction"] = "added", actionInserted
	frame(&p.agents, streamQueue, "public", obs)
	for _, g := range c.Access.GroupIDs {
		if g != 0 {
			frame(&p.agents, streamQueue, "department/"+strconv.Itoa(g), obs)
		}
	}
}
