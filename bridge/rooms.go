package bridge

import (
	"context"
	"sort"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Rooms, subscriptions and history (spec §8.2, §8.3). An agent's rooms are
// the LiveChat chats it may see that are active (ListChats: its own chats,
// those it follows, those of its groups, all for managers); each is one
// subscription of the agent. A chat that closed leaves the subscriptions
// (removed) but stays a room.

// maxClosedRooms bounds the closed rooms a delta answer lists.
const maxClosedRooms = 200

// visibleChats lists the active chats the agent may see.
func (b *Bridge) visibleChats(ctx context.Context, actor livechat.Actor) ([]livechat.Chat, error) {
	chats, _, err := b.svc.ListChats(ctx, actor, livechat.ChatFilter{})
	return chats, err
}

// closedSince lists the chats the agent was a user of that closed after since.
func (b *Bridge) closedSince(ctx context.Context, actor livechat.Actor, since time.Time) ([]livechat.Chat, error) {
	return b.svc.Store().Chats().Find(ctx, livechat.Query{Where: []livechat.Cond{
		livechat.Eq("users.id", actor.ID), livechat.Eq("active_thread_id", ""),
		{Field: "updated_at", Op: livechat.OpGt, Value: since},
	}, Limit: maxClosedRooms})
}

func (b *Bridge) roomsGet(ctx context.Context, inv *ddp.Invocation) (any, error) {
	return b.deltaMethod(ctx, inv, b.rooms)
}

func (b *Bridge) subscriptionsGet(ctx context.Context, inv *ddp.Invocation) (any, error) {
	return b.deltaMethod(ctx, inv, b.subscriptions)
}

// deltaMethod answers rooms/get and subscriptions/get: the list, or with a
// date param the {update, remove} delta; nothing for a session without an
// agent.
func (b *Bridge) deltaMethod(ctx context.Context, inv *ddp.Invocation, list func(context.Context, livechat.Actor, time.Time, bool) (delta, error)) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	since, isDelta := deltaSince(inv.Params)
	d := delta{Update: []any{}, Remove: []any{}}
	if ok {
		var err error
		if d, err = list(ctx, actor, since, isDelta); err != nil {
			return nil, rcError(err, inv.Method, "")
		}
	}
	if !isDelta {
		return d.Update, nil
	}
	return d, nil
}

// changedChats are the agent's active chats (with isDelta, those changed
// after since) and, with isDelta, its chats that closed after since.
func (b *Bridge) changedChats(ctx context.Context, actor livechat.Actor, since time.Time, isDelta bool) (active, closed []livechat.Chat, err error) {
	chats, err := b.visibleChats(ctx, actor)
	if err != nil {
		return nil, nil, err
	}
	for i := range chats {
		if !isDelta || chats[i].UpdatedAt.After(since) {
			active = append(active, chats[i])
		}
	}
	if isDelta {
		closed, err = b.closedSince(ctx, actor, since)
	}
	return active, closed, err
}

// rooms lists the agent's rooms: all its active chats, or with isDelta
// those changed after since plus the rooms that closed after since (a
// closed chat stays a room, so nothing is ever in Remove).
func (b *Bridge) rooms(ctx context.Context, actor livechat.Actor, since time.Time, isDelta bool) (delta, error) {
	active, closed, err := b.changedChats(ctx, actor, since, isDelta)
	if err != nil {
		return delta{}, err
	}
	rooms := make([]room, 0, len(active)+len(closed))
	for _, c := range append(active, closed...) {
		rooms = append(rooms, b.toRoom(ctx, &c, nil))
	}
	return delta{Update: rooms, Remove: []any{}}, nil
}

// subscriptions lists the agent's subscriptions: one per active chat it
// may see, or with isDelta those changed after since, and as removed the
// subscriptions of its chats that closed after since.
func (b *Bridge) subscriptions(ctx context.Context, actor livechat.Actor, since time.Time, isDelta bool) (delta, error) {
	active, closed, err := b.changedChats(ctx, actor, since, isDelta)
	if err != nil {
		return delta{}, err
	}
	subs := make([]subscription, 0, len(active))
	for i := range active {
		subs = append(subs, b.toSubscription(ctx, &active[i], actor.Agent, nil))
	}
	removed := []any{}
	uid := UserID(actor)
	for _, c := range closed {
		removed = append(removed, map[string]any{"_id": subscriptionID(c.ID, uid), "_deletedAt": c.UpdatedAt})
	}
	return delta{Update: subs, Remove: removed}, nil
}

// readRoom is the chat rid as the session's caller (agent, or visitor) may
// read it.
func (b *Bridge) readRoom(ctx context.Context, inv *ddp.Invocation, rid string) (livechat.Actor, *livechat.Chat, error) {
	actor, ok := b.connOf(inv.Session).caller()
	if !ok {
		return livechat.Actor{}, nil, errInvalidUser(inv.Method)
	}
	if rid == "" {
		return actor, nil, newErr(codeInvalidRoom, "Invalid room", inv.Method)
	}
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		if livechat.IsType(err, livechat.TypeNotFound) {
			return actor, nil, newErr(codeInvalidRoom, "Invalid room", inv.Method)
		}
		return actor, nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	return actor, c, nil
}

func (b *Bridge) getRoomByID(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	if err := inv.Params.Decode(&rid); err != nil {
		return nil, err
	}
	_, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		return nil, err
	}
	return b.toRoom(ctx, c, nil), nil
}

func (b *Bridge) getRoomNameByID(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	if err := inv.Params.Decode(&rid); err != nil {
		return nil, err
	}
	_, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		return nil, err
	}
	_, name := b.visitorOf(ctx, c)
	return name, nil
}

// getRoomByTypeAndName: omnichannel rooms are addressed by id.
func (b *Bridge) getRoomByTypeAndName(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var typ, name string
	if err := inv.Params.Decode(&typ, &name); err != nil {
		return nil, err
	}
	if typ != roomLivechat {
		return nil, newErr(codeInvalidRoom, "Invalid room", inv.Method)
	}
	_, c, err := b.readRoom(ctx, inv, name)
	if err != nil {
		return nil, err
	}
	return b.toRoom(ctx, c, nil), nil
}

// canAccessRoom answers the room when the user (the caller, or the agent
// userId names) may read it, false otherwise.
func (b *Bridge) canAccessRoom(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid, userID string
	if err := inv.Params.Decode(&rid, &userID); err != nil {
		return nil, err
	}
	actor, uid, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	if userID != "" && userID != uid {
		a, err := b.agentByUID(ctx, userID)
		if err != nil {
			return false, nil
		}
		actor = livechat.AgentActor(a)
	}
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		return false, nil
	}
	return b.toRoom(ctx, c, nil), nil
}

// getRoomRoles: omnichannel rooms have no owners, moderators or leaders in
// Rocket.Chat either.
func (b *Bridge) getRoomRoles(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	if err := inv.Params.Decode(&rid); err != nil {
		return nil, err
	}
	if _, _, err := b.readRoom(ctx, inv, rid); err != nil {
		return nil, err
	}
	return []any{}, nil
}

// roomUser is a member as getUsersOfRoom lists it.
type roomUser struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
	Status   string `json:"status"`
	Type     string `json:"type"`
}

func (b *Bridge) getUsersOfRoom(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	var showAll bool
	var page struct {
		Limit int `json:"limit"`
		Skip  int `json:"skip"`
	}
	if err := inv.Params.Decode(&rid, &showAll, &page); err != nil {
		return nil, err
	}
	_, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		return nil, err
	}
	users := []roomUser{}
	for _, u := range c.Users {
		p, ok := b.people.get(ctx, u.ID)
		if !ok {
			continue
		}
		ru := roomUser{ID: p.ref.ID, Username: p.ref.Username, Name: p.ref.Name, Status: "offline", Type: "user"}
		switch {
		case p.agent != nil:
			ru.Status = presenceOf(b.svc.EffectiveRoutingStatus(p.agent))
			if p.agent.Kind == livechat.AgentKindBot {
				ru.Type = "bot"
			}
		case p.customer != nil:
			ru.Type = "visitor"
			if b.svc.CustomerOnline(p.customer.ID) {
				ru.Status = "online"
			}
		}
		if showAll || ru.Status != "offline" {
			users = append(users, ru)
		}
	}
	total := len(users)
	if page.Skip > 0 {
		users = users[min(page.Skip, len(users)):]
	}
	if page.Limit > 0 && len(users) > page.Limit {
		users = users[:page.Limit]
	}
	return map[string]any{"total": total, "records": users}, nil
}

// readMessages moves the agent's seen marker to now. An agent who sees the
// room without being one of its users has no marker: nothing to do.
func (b *Bridge) readMessages(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	if err := inv.Params.Decode(&rid); err != nil {
		return nil, err
	}
	actor, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		if de, ok := err.(*ddp.Error); ok && de.Code == codeInvalidRoom {
			return nil, newErr("error-room-does-not-exist", "This room does not exist", inv.Method)
		}
		return nil, err
	}
	if c.User(actor.ID) == nil {
		return nil, nil
	}
	return nil, rcError(b.svc.MarkEventsAsSeen(ctx, actor, c.ID, b.clock.Now()), inv.Method, codeInvalidRoom)
}

func (b *Bridge) openRoom(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	if err := inv.Params.Decode(&rid); err != nil {
		return nil, err
	}
	_, _, err := b.readRoom(ctx, inv, rid)
	return nil, err
}

// hideRoom: a subscription is shown while its chat is active; hiding is
// not kept. It answers as Rocket.Chat does (1: one subscription changed).
func (b *Bridge) hideRoom(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	if err := inv.Params.Decode(&rid); err != nil {
		return nil, err
	}
	if _, _, err := b.readRoom(ctx, inv, rid); err != nil {
		return nil, err
	}
	return 1, nil
}

// History. Messages are the chat's events across its threads (message _id
// = event id) plus one livechat-started message per thread (_id = thread
// id); deleted events are left out (Message_ShowDeletedStatus off).

const (
	defaultHistory = 20
	maxHistory     = 100
)

// history returns up to limit messages of chat c strictly between after
// and before (zero: unbounded), newest first when desc.
func (b *Bridge) history(ctx context.Context, actor livechat.Actor, c *livechat.Chat, after, before time.Time, limit int, desc bool) ([]message, error) {
	evs, err := b.svc.ListChatEvents(ctx, actor, c.ID, livechat.EventRange{After: after, Before: before, Limit: limit, Desc: desc})
	if err != nil {
		return nil, err
	}
	threads, err := b.svc.ChatThreads(ctx, actor, c.ID)
	if err != nil {
		return nil, err
	}
	msgs := make([]message, 0, len(evs)+len(threads))
	for i := range evs {
		if !livechat.EventDeleted(&evs[i]) {
			msgs = append(msgs, b.toMessage(ctx, &evs[i]))
		}
	}
	for i := range threads {
		t := &threads[i]
		if (after.IsZero() || t.CreatedAt.After(after)) && (before.IsZero() || t.CreatedAt.Before(before)) {
			msgs = append(msgs, b.threadStarted(ctx, c, t))
		}
	}
	// A thread's start sorts before the events of its first millisecond.
	sort.SliceStable(msgs, func(i, j int) bool {
		ti, tj := msgs[i].TS, msgs[j].TS
		if ti.Equal(tj) {
			si, sj := msgs[i].T == msgLivechatOpen, msgs[j].T == msgLivechatOpen
			if desc {
				return !si && sj
			}
			return si && !sj
		}
		if desc {
			return ti.After(tj)
		}
		return ti.Before(tj)
	})
	if limit > 0 && len(msgs) > limit {
		msgs = msgs[:limit]
	}
	return msgs, nil
}

func historyLimit(n int) int {
	switch {
	case n <= 0:
		return defaultHistory
	case n > maxHistory:
		return maxHistory
	}
	return n
}

// loadHistory answers false, not an error, for a room the caller may not read.
func (b *Bridge) loadHistory(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	var end, ls *time.Time
	var limit int
	if err := inv.Params.Decode(&rid, &end, &limit, &ls); err != nil {
		return nil, err
	}
	return b.loadHistoryOf(ctx, inv, rid, end, ls, limit)
}

// visitorLoadHistory is livechat:loadHistory, the visitor's form:
// [{token, rid, end, limit, ls}].
func (b *Bridge) visitorLoadHistory(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		Token string     `json:"token"`
		RID   string     `json:"rid"`
		End   *time.Time `json:"end"`
		Limit int        `json:"limit"`
		LS    *time.Time `json:"ls"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	if _, err := b.visitorCall(ctx, inv, req.Token); err != nil {
		return nil, err
	}
	return b.loadHistoryOf(ctx, inv, req.RID, req.End, req.LS, req.Limit)
}

func (b *Bridge) loadHistoryOf(ctx context.Context, inv *ddp.Invocation, rid string, end, ls *time.Time, limit int) (any, error) {
	actor, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		if de, ok := err.(*ddp.Error); ok && de.Code == codeInvalidUser {
			return nil, err
		}
		return false, nil
	}
	var before time.Time
	if end != nil {
		before = *end
	}
	msgs, err := b.history(ctx, actor, c, time.Time{}, before, historyLimit(limit), true)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	out := map[string]any{"messages": msgs, "unreadNotLoaded": 0}
	if ls != nil && len(msgs) > 0 {
		oldest := msgs[len(msgs)-1].TS
		older, err := b.history(ctx, actor, c, *ls, oldest, 0, false)
		if err != nil {
			return nil, rcError(err, inv.Method, codeInvalidRoom)
		}
		out["unreadNotLoaded"] = len(older)
		switch {
		case len(older) > 0:
			out["firstUnread"] = older[0]
		default:
			for i := len(msgs) - 1; i >= 0; i-- {
				if msgs[i].TS.After(*ls) {
					out["firstUnread"] = msgs[i]
					break
				}
			}
		}
	}
	return out, nil
}

func (b *Bridge) loadNextMessages(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	var end *time.Time
	var limit int
	if err := inv.Params.Decode(&rid, &end, &limit); err != nil {
		return nil, err
	}
	actor, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		if rid == "" {
			return nil, err
		}
		return false, nil
	}
	var after time.Time
	if end != nil {
		after = *end
	}
	msgs, err := b.history(ctx, actor, c, after, time.Time{}, historyLimit(limit), false)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	return map[string]any{"messages": msgs}, nil
}

func (b *Bridge) loadMissedMessages(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var rid string
	var start time.Time
	if err := inv.Params.Decode(&rid, &start); err != nil {
		return nil, err
	}
	actor, c, err := b.readRoom(ctx, inv, rid)
	if err != nil {
		return nil, err
	}
	msgs, err := b.history(ctx, actor, c, start, time.Time{}, maxHistory*5, false)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	return msgs, nil
}

func (b *Bridge) loadSurroundingMessages(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var ref struct {
		ID  string    `json:"_id"`
		RID string    `json:"rid"`
		TS  time.Time `json:"ts"`
	}
	limit := 50
	if err := inv.Params.Decode(&ref, &limit); err != nil {
		return nil, err
	}
	actor, c, err := b.readRoom(ctx, inv, ref.RID)
	if err != nil {
		return false, nil
	}
	limit = historyLimit(limit)
	half := max(limit/2, 1)
	before, err := b.history(ctx, actor, c, time.Time{}, ref.TS, half+1, true)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	after, err := b.history(ctx, actor, c, ref.TS.Add(-time.Millisecond), time.Time{}, half+1, false)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	moreBefore, moreAfter := len(before) > half, len(after) > half
	before, after = before[:min(len(before), half)], after[:min(len(after), half)]
	msgs := make([]message, 0, len(before)+len(after))
	for i := len(before) - 1; i >= 0; i-- {
		msgs = append(msgs, before[i])
	}
	msgs = append(msgs, after...)
	return map[string]any{"messages": msgs, "moreBefore": moreBefore, "moreAfter": moreAfter}, nil
}

func (b *Bridge) getSingleMessage(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var id string
	if err := inv.Params.Decode(&id); err != nil {
		return nil, err
	}
	actor, ok := b.connOf(inv.Session).caller()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	return b.Message(ctx, actor, id)
}

// Message is message id as actor may read it (getSingleMessage, REST
// chat.getMessage); a deleted or unreadable one is error-not-allowed.
func (b *Bridge) Message(ctx context.Context, actor livechat.Actor, id string) (any, error) {
	e, _, err := b.svc.GetChatEvent(ctx, actor, id)
	if err != nil || livechat.EventDeleted(e) {
		return nil, newErr(codeNotAllowed, "Not allowed", "getSingleMessage")
	}
	return b.toMessage(ctx, e), nil
}
