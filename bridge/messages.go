package bridge

import (
	"context"
	"regexp"
	"strings"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Messages (spec §8.3). sendMessage writes a LiveChat message event with
// the client's _id; updateMessage, deleteMessage and setReaction use the
// core's Rocket.Chat helpers (livechat/rc_events.go), which keep edits,
// deletions and reactions on the event for every protocol to see.

// messageIn is sendMessage's and updateMessage's message parameter.
type messageIn struct {
	ID          string `json:"_id"`
	RID         string `json:"rid"`
	Msg         string `json:"msg"`
	TMID        string `json:"tmid"`
	TShow       bool   `json:"tshow"`
	T           string `json:"t"`
	Attachments []any  `json:"attachments"`
}

func (b *Bridge) sendMessage(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var in messageIn
	if err := inv.Params.Decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.RID == "":
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	case in.TShow && in.TMID == "":
		return nil, newErr(codeInvalidParams, "tshow provided but missing tmid", inv.Method)
	case in.TMID != "":
		return nil, newErr(codeNotAllowed, "Not allowed: threads are not supported in omnichannel rooms", inv.Method)
	case in.T != "":
		return nil, newErr(codeNotAllowed, "Not allowed: system messages cannot be sent", inv.Method)
	case len(in.Msg) > livechat.MaxMessageText:
		return nil, &ddp.Error{Code: codeMessageSize, Reason: "Message size exceeds Message_MaxAllowedSize",
			Details: map[string]any{"method": inv.Method, "max": livechat.MaxMessageText}}
	case strings.TrimSpace(in.Msg) == "":
		return nil, newErr(codeInvalidParams, "A message needs text: attachments are not sent to LiveChat", inv.Method)
	}
	e, created, err := b.svc.SendEventWithID(ctx, actor, in.RID, in.ID, livechat.Event{Type: livechat.EventMessage, Text: in.Msg}, livechat.SendEventOptions{})
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	if !created {
		return nil, nil // a retry of a stored message: Rocket.Chat answers nothing
	}
	return b.toMessage(ctx, e), nil
}

func (b *Bridge) updateMessage(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var in messageIn
	if err := inv.Params.Decode(&in); err != nil {
		return nil, err
	}
	if in.ID == "" {
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	e, c, err := b.svc.GetChatEvent(ctx, actor, in.ID)
	if err != nil {
		return nil, nil // unknown _id: Rocket.Chat returns silently
	}
	if in.RID != "" && in.RID != c.ID || in.TMID != "" {
		return nil, newErr("error-invalid-update-key", "Only msg may change", inv.Method)
	}
	if e.Text == in.Msg {
		return nil, nil
	}
	if _, err := b.svc.EditEventText(ctx, actor, c.ID, e.ID, in.Msg); err != nil {
		if livechat.IsType(err, livechat.TypeAuthorization) {
			return nil, newErr(codeActionNotAllowed, "Message editing not allowed", inv.Method)
		}
		return nil, rcError(err, inv.Method, codeInvalidMessage)
	}
	return nil, nil
}

func (b *Bridge) deleteMessage(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var in messageIn
	if err := inv.Params.Decode(&in); err != nil {
		return nil, err
	}
	e, c, err := b.svc.GetChatEvent(ctx, actor, in.ID)
	if err != nil || livechat.EventDeleted(e) {
		return nil, newErr(codeInvalidMessage, "Invalid message", inv.Method)
	}
	if _, err := b.svc.RetractEvent(ctx, actor, c.ID, e.ID); err != nil {
		if livechat.IsType(err, livechat.TypeAuthorization) {
			return nil, newErr(codeActionNotAllowed, "Message deleting not allowed", inv.Method)
		}
		return nil, rcError(err, inv.Method, codeInvalidMessage)
	}
	return nil, nil
}

// emojiRe is an emoji short name, with or without its colons.
var emojiRe = regexp.MustCompile(`^:?([a-zA-Z0-9_+\-]{1,60}):?$`)

func (b *Bridge) setReaction(ctx context.Context, inv *ddp.Invocation) (any, error) {
	actor, _, ok := b.connOf(inv.Session).agent()
	if !ok {
		return nil, errInvalidUser(inv.Method)
	}
	var emoji, id string
	var react *bool
	if err := inv.Params.Decode(&emoji, &id, &react); err != nil {
		return nil, err
	}
	return nil, b.React(ctx, actor, emoji, id, react)
}

// React adds (react true), removes (false) or toggles (nil) the agent's
// reaction emoji on message id, as setReaction and REST chat.react do.
func (b *Bridge) React(ctx context.Context, actor livechat.Actor, emoji, id string, react *bool) error {
	const method = "setReaction"
	m := emojiRe.FindStringSubmatch(emoji)
	if m == nil {
		return newErr(codeNotAllowed, "Invalid emoji provided.", method)
	}
	e, c, err := b.svc.GetChatEvent(ctx, actor, id)
	if err != nil {
		return newErr(codeNotAllowed, "Not allowed", method)
	}
	if _, err := b.svc.ReactToEvent(ctx, actor, c.ID, e.ID, ":"+strings.ToLower(m[1])+":", actor.Agent.Username, react); err != nil {
		return rcError(err, method, codeInvalidMessage)
	}
	return nil
}
