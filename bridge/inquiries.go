package bridge

import (
	"context"
	"slices"
	"strconv"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Omnichannel, agent side (spec §8.6). An inquiry is a queued LiveChat
// thread: the active thread of a chat with a customer and no agent; its
// _id is the thread id. Taking it is a LiveChat transfer of the chat to
// the taking agent; a transfer is transfer_chat; closing is
// deactivate_chat.

// inquiryPublication is `livechat:inquiry`: the queued conversations the
// agent may see, in collection rocketchat_livechat_inquiry, kept live by
// the hub (added when a chat is queued, removed when an agent joins it or
// it closes).
func (b *Bridge) inquiryPublication(ctx context.Context, sub *ddp.Subscription) error {
	c := b.connOf(sub.Session())
	actor, _, ok := c.agent()
	if !ok {
		return errStreamNotAllowed
	}
	held := map[string]bool{}
	c.mu.Lock()
	c.inqs[sub] = held
	c.wide++
	c.mu.Unlock()
	sub.OnStop(func() {
		c.mu.Lock()
		if _, ok := c.inqs[sub]; ok {
			delete(c.inqs, sub)
			c.wide--
		}
		c.mu.Unlock()
	})
	chats, err := b.visibleChats(ctx, actor)
	if err != nil {
		return rcError(err, "livechat:inquiry", "")
	}
	for i := range chats {
		ch := &chats[i]
		if !queued(ch) {
			continue
		}
		inq, err := b.queuedInquiry(ctx, ch)
		if err != nil {
			return err
		}
		c.mu.Lock()
		fresh := !held[inq.ID]
		held[inq.ID] = true
		c.mu.Unlock()
		if fresh {
			if err := sub.Added(inquiryCollection, inq.ID, inq); err != nil {
				return err
			}
		}
	}
	sub.Ready()
	return nil
}

// queuedInquiry is the inquiry of queued chat c, with its first message.
func (b *Bridge) queuedInquiry(ctx context.Context, c *livechat.Chat) (inquiry, error) {
	st := b.svc.Store()
	t, err := st.Threads().Get(ctx, c.ActiveThreadID)
	if err != nil {
		return inquiry{}, err
	}
	first := ""
	if evs, err := st.Events().Find(ctx, livechat.Query{Where: []livechat.Cond{livechat.Eq("thread_id", t.ID), livechat.Eq("type", livechat.EventMessage)},
		Sort: "created_at", Limit: 1}); err == nil && len(evs) > 0 {
		first = evs[0].Text
	}
	queuedAt := t.CreatedAt
	if t.Queue != nil {
		queuedAt = t.Queue.QueuedAt
	}
	return b.toInquiry(ctx, c, t.ID, queuedAt, first), nil
}

// takeInquiry gives the queued chat to the calling agent.
func (b *Bridge) takeInquiry(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var id string
	if err := inv.Params.Decode(&id); err != nil {
		return nil, err
	}
	_, err := b.TakeInquiry(ctx, actor, id)
	return nil, err
}

// TakeInquiry gives the queued chat of inquiry id (its queued thread) to
// the agent (livechat:takeInquiry, REST livechat/inquiries.take); it
// answers the inquiry as it was.
func (b *Bridge) TakeInquiry(ctx context.Context, actor livechat.Actor, id string) (any, error) {
	const method = "livechat:takeInquiry"
	t, err := b.svc.Store().Threads().Get(ctx, id)
	if err != nil {
		return nil, newErr(codeNotFound, "Inquiry not found", method)
	}
	c, err := b.svc.ReadChat(ctx, actor, t.ChatID)
	if err != nil {
		return nil, rcError(err, method, codeNotFound)
	}
	if !queued(c) || c.ActiveThreadID != t.ID {
		return nil, newErr(codeInquiryTaken, "Inquiry already taken", method)
	}
	inq, err := b.queuedInquiry(ctx, c)
	if err != nil {
		return nil, rcError(err, method, codeNotFound)
	}
	err = b.svc.TransferChat(ctx, actor, c.ID, livechat.TransferInput{TargetType: livechat.TargetAgent, AgentIDs: []string{actor.ID}, IgnoreAgentsAvailability: true})
	if err != nil {
		return nil, rcError(err, method, codeNotFound)
	}
	inq.Status = "taken"
	return inq, nil
}

// Inquiries lists the queued inquiries the agent may see, oldest first
// (REST livechat/inquiries.queued).
func (b *Bridge) Inquiries(ctx context.Context, actor livechat.Actor) ([]any, error) {
	chats, err := b.visibleChats(ctx, actor)
	if err != nil {
		return nil, rcError(err, "livechat/inquiries.queued", "")
	}
	var inqs []inquiry
	for i := range chats {
		if !queued(&chats[i]) {
			continue
		}
		inq, err := b.queuedInquiry(ctx, &chats[i])
		if err != nil {
			return nil, rcError(err, "livechat/inquiries.queued", "")
		}
		inqs = append(inqs, inq)
	}
	slices.SortStableFunc(inqs, func(a, b inquiry) int { return a.QueuedAt.Compare(b.QueuedAt) })
	out := make([]any, len(inqs))
	for i := range inqs {
		out[i] = inqs[i]
	}
	return out, nil
}

// closeRoom closes the chat's thread. An agent closes chats it serves;
// managers any. Tags in options are put on the thread first when they
// exist; the comment has nowhere to go in LiveChat and is not kept.
func (b *Bridge) closeRoom(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var rid, comment string
	var opts struct {
		Tags []string `json:"tags"`
	}
	if err := inv.Params.Decode(&rid, &comment, &opts); err != nil {
		return nil, err
	}
	return nil, b.CloseRoom(ctx, actor, rid, opts.Tags)
}

// CloseRoom closes room rid as the agent (livechat:closeRoom, REST
// livechat/room.closeByUser), tagging its thread first with the tags that
// exist.
func (b *Bridge) CloseRoom(ctx context.Context, actor livechat.Actor, rid string, tags []string) error {
	const method = "livechat:closeRoom"
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		return rcError(err, method, codeInvalidRoom)
	}
	if !c.Active() {
		return newErr(codeRoomClosed, "Room closed", method)
	}
	for _, tag := range tags {
		if err := b.svc.TagThread(ctx, actor, c.ID, c.ActiveThreadID, tag, true); err != nil {
			b.log.Debug("bridge: close tag not set", "chat_id", c.ID, "tag", tag, "err", err)
		}
	}
	if err := b.svc.DeactivateChat(ctx, actor, c.ID, !actor.IsManager()); err != nil {
		return rcError(err, method, codeInvalidRoom)
	}
	return nil
}

// TransferRoom moves room rid to the agent uid or the department dept, as
// the agent (REST livechat/room.forward).
func (b *Bridge) TransferRoom(ctx context.Context, actor livechat.Actor, rid, uid, dept string) error {
	return b.transferRoom(ctx, actor, rid, uid, dept, "livechat:transfer")
}

// transfer moves the chat to an agent (userId, a Rocket.Chat user id) or a
// department (a group id).
func (b *Bridge) transfer(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var req struct {
		RoomID       string `json:"roomId"`
		UserID       string `json:"userId"`
		DepartmentID string `json:"departmentId"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	if err := b.transferRoom(ctx, actor, req.RoomID, req.UserID, req.DepartmentID, inv.Method); err != nil {
		return nil, err
	}
	return true, nil
}

// transferRoom moves room rid to the agent uid (a Rocket.Chat user id) or,
// without one, to department dept (livechat:transfer, and REST
// livechat/room.transfer for a visitor, which the system actor carries
// out once the visitor's access is checked).
func (b *Bridge) transferRoom(ctx context.Context, actor livechat.Actor, rid, uid, dept, method string) error {
	in := livechat.TransferInput{}
	switch {
	case uid != "":
		a, err := b.agentByUID(ctx, uid)
		if err != nil {
			return newErr(codeInvalidUser, "Invalid user", method)
		}
		in.TargetType, in.AgentIDs = livechat.TargetAgent, []string{a.ID}
	case dept != "":
		g, err := strconv.Atoi(dept)
		if err != nil {
			return newErr("error-invalid-department", "Invalid department", method)
		}
		in.TargetType, in.GroupIDs = livechat.TargetGroup, []int{g}
	default:
		return &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	return rcError(b.svc.TransferChat(ctx, actor, rid, in), method, codeInvalidRoom)
}

// returnAsInquiry takes the chat from its agents back to the queue of its
// groups (or of the department given), where the router may give it to
// another agent.
func (b *Bridge) returnAsInquiry(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var rid, dept string
	if err := inv.Params.Decode(&rid, &dept); err != nil {
		return nil, err
	}
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	groups := slices.Clone(c.Access.GroupIDs)
	if g, err := department(dept); err != nil {
		return nil, rcError(err, inv.Method, "")
	} else if g != nil {
		groups = []int{*g}
	}
	err = b.svc.TransferChat(ctx, actor, c.ID, livechat.TransferInput{TargetType: livechat.TargetGroup, GroupIDs: groups, IgnoreAgentsAvailability: true})
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	return true, nil
}
