package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Exported helpers for Rocket.Chat's REST API (rest/rocketchat.go). They
// are the DDP methods' logic without a DDP session: the caller is an actor
// the REST layer authenticated (X-User-Id + X-Auth-Token, a resume token).
// Results are the same shapes the DDP methods answer; errors are
// *ddp.Error (Rocket.Chat's error codes) or *livechat.Error.

// PasswordLogin checks a password login (user: a string, or {id|username|
// email}; password: the plain text or {digest, algorithm}) and issues a
// resume token.
func (b *Bridge) PasswordLogin(ctx context.Context, user, password json.RawMessage) (livechat.Actor, string, time.Time, error) {
	a, err := b.passwordAgent(ctx, user, password)
	if err != nil {
		return livechat.Actor{}, "", time.Time{}, err
	}
	token, expires, err := b.svc.IssueResumeToken(ctx, a, b.cfg.ResumeTokenTTL)
	if err != nil {
		return livechat.Actor{}, "", time.Time{}, err
	}
	return livechat.AgentActor(a), token, b.expiry(expires), nil
}

// ResumeLogin resolves a resume token (or any LiveChat agent token) to its
// agent, with the errors login {resume} gives.
func (b *Bridge) ResumeLogin(ctx context.Context, token string) (livechat.Actor, time.Time, error) {
	actor, expires, err := b.svc.LoginWithResumeToken(ctx, token)
	if err != nil {
		le := livechat.AsError(err)
		switch {
		case le.Type != livechat.TypeAuthentication:
			return livechat.Actor{}, time.Time{}, err
		case le.Data["expired"] == true:
			return livechat.Actor{}, time.Time{}, errSessionExpired
		}
		return livechat.Actor{}, time.Time{}, errLoggedOut
	}
	if !actor.IsAgent() {
		return livechat.Actor{}, time.Time{}, errLoggedOut
	}
	return actor, b.expiry(expires), nil
}

// expiry gives a never-expiring token a date, as login does.
func (b *Bridge) expiry(t time.Time) time.Time {
	if t.IsZero() {
		t = b.clock.Now().Add(b.cfg.ResumeTokenTTL)
	}
	return t.UTC()
}

// UserID is the agent's Rocket.Chat user id.
func UserID(actor livechat.Actor) string { return actor.Agent.AccountID }

// UserDoc is the agent's `users` document with its _id (REST `me`).
func (b *Bridge) UserDoc(a *livechat.Agent) map[string]any {
	raw, _ := json.Marshal(b.toUserDoc(a))
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	m["_id"] = a.AccountID
	return m
}

// Rooms lists the agent's rooms as rooms/get does (update, remove), with
// only what changed after since when it is not zero (REST updatedSince).
func (b *Bridge) Rooms(ctx context.Context, actor livechat.Actor, since time.Time) (update any, remove []any, err error) {
	d, err := b.rooms(ctx, actor, since, !since.IsZero())
	return d.Update, d.Remove, err
}

// Subscriptions lists the agent's subscriptions as subscriptions/get does
// (update, remove), a delta after since when it is not zero.
func (b *Bridge) Subscriptions(ctx context.Context, actor livechat.Actor, since time.Time) (update any, remove []any, err error) {
	d, err := b.subscriptions(ctx, actor, since, !since.IsZero())
	return d.Update, d.Remove, err
}

// SendMessage writes the agent's message (id may be empty: a new one),
// with sendMessage's checks; it answers the message.
func (b *Bridge) SendMessage(ctx context.Context, actor livechat.Actor, rid, id, msg string) (any, error) {
	const method = "sendMessage"
	switch {
	case rid == "":
		return nil, newErr(codeInvalidParams, "The 'roomId' param is required", method)
	case id != "" && !livechat.ValidClientID(id):
		return nil, newErr(codeInvalidParams, "Invalid message _id", method)
	case len(msg) > livechat.MaxMessageText:
		return nil, &ddp.Error{Code: codeMessageSize, Reason: "Message size exceeds Message_MaxAllowedSize"}
	case strings.TrimSpace(msg) == "":
		return nil, newErr(codeInvalidParams, "A message needs text: attachments are not sent to LiveChat", method)
	}
	if id == "" {
		id = livechat.NewID()
	}
	e, _, err := b.svc.SendEventWithID(ctx, actor, rid, id, livechat.Event{Type: livechat.EventMessage, Text: msg}, livechat.SendEventOptions{})
	if err != nil {
		return nil, rcError(err, method, codeInvalidRoom)
	}
	return b.toMessage(ctx, e), nil
}

// UpdateMessage edits the text of message id in room rid; it answers the
// edited message.
func (b *Bridge) UpdateMessage(ctx context.Context, actor livechat.Actor, rid, id, text string) (any, error) {
	const method = "updateMessage"
	e, c, err := b.svc.GetChatEvent(ctx, actor, id)
	if err != nil || livechat.EventDeleted(e) {
		return nil, newErr(codeInvalidMessage, "Invalid message", method)
	}
	if rid != "" && rid != c.ID {
		return nil, newErr(codeInvalidParams, "The room id provided does not match where the message is from.", method)
	}
	if e.Text != text {
		if e, err = b.svc.EditEventText(ctx, actor, c.ID, e.ID, text); err != nil {
			if livechat.IsType(err, livechat.TypeAuthorization) {
				return nil, newErr(codeActionNotAllowed, "Message editing not allowed", method)
			}
			return nil, rcError(err, method, codeInvalidMessage)
		}
	}
	return b.toMessage(ctx, e), nil
}

// DeleteMessage retracts message id of room rid.
func (b *Bridge) DeleteMessage(ctx context.Context, actor livechat.Actor, rid, id string) error {
	const method = "deleteMessage"
	e, c, err := b.svc.GetChatEvent(ctx, actor, id)
	if err != nil || livechat.EventDeleted(e) {
		return newErr(codeInvalidMessage, "Invalid message", method)
	}
	if rid != "" && rid != c.ID {
		return newErr(codeInvalidParams, "The room id provided does not match where the message is from.", method)
	}
	if _, err := b.svc.RetractEvent(ctx, actor, c.ID, e.ID); err != nil {
		if livechat.IsType(err, livechat.TypeAuthorization) {
			return newErr(codeActionNotAllowed, "Message deleting not allowed", method)
		}
		return rcError(err, method, codeInvalidMessage)
	}
	return nil
}

// History lists up to count messages of room rid older than latest (zero:
// now), newest first, as loadHistory does.
func (b *Bridge) History(ctx context.Context, actor livechat.Actor, rid string, latest time.Time, count int) (any, error) {
	const method = "loadHistory"
	if rid == "" {
		return nil, newErr(codeInvalidRoom, "Invalid room", method)
	}
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		if livechat.IsType(err, livechat.TypeNotFound) {
			return nil, newErr(codeInvalidRoom, "Invalid room", method)
		}
		return nil, rcError(err, method, codeInvalidRoom)
	}
	msgs, err := b.history(ctx, actor, c, time.Time{}, latest, historyLimit(count), true)
	if err != nil {
		return nil, rcError(err, method, codeInvalidRoom)
	}
	return msgs, nil
}

// RegisterVisitor registers (or updates) the visitor g.Token, as
// livechat:registerGuest does; it answers the visitor document.
func (b *Bridge) RegisterVisitor(ctx context.Context, g Guest) (any, error) {
	const method = "livechat:registerGuest"
	cust, group, err := b.registerVisitor(ctx, g)
	if err != nil {
		return nil, rcError(err, method, "")
	}
	if group != nil {
		if cust, err = b.svc.CustomerConnected(ctx, livechat.CustomerActor(cust), livechat.CustomerLoginInput{GroupID: group}); err != nil {
			return nil, rcError(err, method, "")
		}
		b.svc.CustomerDisconnected(ctx, cust.ID)
	}
	return toVisitorDoc(cust, g.Token), nil
}

// visitorActor is the customer of a visitor token.
func (b *Bridge) visitorActor(ctx context.Context, token, method string) (livechat.Actor, error) {
	if token == "" {
		return livechat.Actor{}, newErr(codeInvalidToken, "Invalid token", method)
	}
	cust, err := b.svc.VisitorByToken(ctx, token)
	if err != nil {
		if livechat.IsType(err, livechat.TypeNotFound) {
			return livechat.Actor{}, newErr(codeInvalidToken, "Invalid token", method)
		}
		return livechat.Actor{}, rcError(err, method, codeInvalidToken)
	}
	return livechat.CustomerActor(cust), nil
}

// VisitorRoom is the visitor's room (REST livechat/room): room rid when
// given (started with that id when unused), else the visitor's open room,
// else a new one. It answers the room and whether it is new.
func (b *Bridge) VisitorRoom(ctx context.Context, token, rid string) (any, bool, error) {
	const method = "livechat:getRoom"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return nil, false, err
	}
	if rid == "" {
		open, err := b.openChat(ctx, actor.ID)
		if err != nil {
			return nil, false, rcError(err, method, "")
		}
		if open != nil {
			return b.toRoom(ctx, open, nil), false, nil
		}
		rid = livechat.NewID()
	}
	c, err := b.svc.ReadChat(ctx, actor, rid)
	switch {
	case err == nil:
		return b.toRoom(ctx, c, nil), false, nil
	case !b.unusedChatID(ctx, rid):
		return nil, false, newErr(codeCannotAccessRoom, "Cannot access room", method)
	}
	if _, err := b.svc.StartChatWithID(ctx, actor, rid); err != nil {
		return nil, false, rcError(err, method, "")
	}
	if c, err = b.svc.ReadChat(ctx, actor, rid); err != nil {
		return nil, false, rcError(err, method, codeInvalidRoom)
	}
	return b.toRoom(ctx, c, nil), true, nil
}

// VisitorMessage is a visitor's message (REST livechat/message), as
// sendMessageLivechat: an unknown room id starts a chat, an inactive chat
// gets a new thread. It answers the message.
func (b *Bridge) VisitorMessage(ctx context.Context, token, rid, id, msg string) (any, error) {
	const method = "sendMessageLivechat"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return nil, err
	}
	switch {
	case len(msg) > livechat.MaxMessageText:
		return nil, newErr("message-length-exceeds-character-limit", "Message length exceeds character limit", method)
	case rid == "" || strings.TrimSpace(msg) == "":
		return nil, newErr(codeInvalidParams, "The 'rid' and 'msg' params are required", method)
	case id != "" && !livechat.ValidClientID(id):
		return nil, newErr(codeInvalidParams, "Invalid message _id", method)
	}
	if id == "" {
		id = livechat.NewID()
	}
	chat, err := b.svc.ReadChat(ctx, actor, rid)
	switch {
	case err == nil && !chat.Active():
		if _, err := b.svc.ResumeChat(ctx, actor, chat.ID, livechat.ThreadInput{}, true); err != nil {
			return nil, rcError(err, method, "")
		}
	case err == nil:
	case b.unusedChatID(ctx, rid):
		if _, err := b.svc.StartChatWithID(ctx, actor, rid); err != nil {
			return nil, rcError(err, method, "")
		}
	default:
		return nil, newErr(codeCannotAccessRoom, "Cannot access room", method)
	}
	ev, _, err := b.svc.SendEventWithID(ctx, actor, rid, id, livechat.Event{Type: livechat.EventMessage, Text: msg}, livechat.SendEventOptions{})
	if err != nil {
		return nil, rcError(err, method, "")
	}
	return b.toMessage(ctx, ev), nil
}

// VisitorHistory is History for the visitor of token (REST
// livechat/messages.history/:rid).
func (b *Bridge) VisitorHistory(ctx context.Context, token, rid string, latest time.Time, count int) (any, error) {
	actor, err := b.visitorActor(ctx, token, "livechat:loadHistory")
	if err != nil {
		return nil, err
	}
	return b.History(ctx, actor, rid, latest, count)
}

// maxSync bounds the events chat.syncMessages looks at (the newest ones).
const maxSync = 1000

// SyncMessages is REST chat.syncMessages: the messages of room rid created
// or edited after lastUpdate (newest first), and those deleted after it as
// {_id, _deletedAt}. Reactions carry no time of their own and show only
// with a later edit.
func (b *Bridge) SyncMessages(ctx context.Context, actor livechat.Actor, rid string, lastUpdate time.Time) (updated []any, deleted []any, err error) {
	const method = "chat.syncMessages"
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		return nil, nil, rcError(err, method, codeInvalidRoom)
	}
	evs, err := b.svc.ListChatEvents(ctx, actor, c.ID, livechat.EventRange{Limit: maxSync, Desc: true})
	if err != nil {
		return nil, nil, rcError(err, method, codeInvalidRoom)
	}
	threads, err := b.svc.ChatThreads(ctx, actor, c.ID)
	if err != nil {
		return nil, nil, rcError(err, method, codeInvalidRoom)
	}
	msgs := []message{}
	deleted = []any{}
	for i := range evs {
		e := &evs[i]
		if livechat.EventDeleted(e) {
			at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Properties[livechat.RCNamespace][livechat.RCDeletedAt]))
			if at.After(lastUpdate) {
				deleted = append(deleted, map[string]any{"_id": e.ID, "_deletedAt": at})
			}
			continue
		}
		if m := b.toMessage(ctx, e); m.UpdatedAt.After(lastUpdate) {
			msgs = append(msgs, m)
		}
	}
	for i := range threads {
		if threads[i].CreatedAt.After(lastUpdate) {
			msgs = append(msgs, b.threadStarted(ctx, c, &threads[i]))
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].TS.After(msgs[j].TS) })
	updated = make([]any, len(msgs))
	for i := range msgs {
		updated[i] = msgs[i]
	}
	return updated, deleted, nil
}

// VisitorActor is the customer of a visitor token (REST endpoints that act
// for the visitor before the bridge does: uploads).
func (b *Bridge) VisitorActor(ctx context.Context, token string) (livechat.Actor, error) {
	return b.visitorActor(ctx, token, "livechat/upload")
}

// SendFile sends an uploaded file (its URL) to room rid as actor: a file
// event, after a message holding msg when there is one (Rocket.Chat's
// rooms.upload and livechat/upload). It answers the file's message.
func (b *Bridge) SendFile(ctx context.Context, actor livechat.Actor, rid, url, msg string) (any, error) {
	const method = "rooms.upload"
	if rid == "" {
		return nil, newErr(codeInvalidParams, "The 'rid' param is required", method)
	}
	if len(msg) > livechat.MaxMessageText {
		return nil, &ddp.Error{Code: codeMessageSize, Reason: "Message size exceeds Message_MaxAllowedSize"}
	}
	if strings.TrimSpace(msg) != "" { // SendEventWithID checks the caller may write to rid
		if _, _, err := b.svc.SendEventWithID(ctx, actor, rid, livechat.NewID(), livechat.Event{Type: livechat.EventMessage, Text: msg}, livechat.SendEventOptions{}); err != nil {
			return nil, rcError(err, method, codeInvalidRoom)
		}
	}
	ev, _, err := b.svc.SendEventWithID(ctx, actor, rid, livechat.NewID(), livechat.Event{Type: livechat.EventFile, URL: url}, livechat.SendEventOptions{})
	if err != nil {
		return nil, rcError(err, method, codeInvalidRoom)
	}
	return b.toMessage(ctx, ev), nil
}
