package bridge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Exported helpers for the omnichannel visitor endpoints of Rocket.Chat's
// REST API (rest/rocketchat_widget.go), the calls of the Livechat widget
// and of @rocket.chat/sdk's Livechat client. A visitor never logs in: each
// call carries its widget token, which must name the customer of the room.
// The core's access rule (ReadChat) keeps a visitor out of other visitors'
// rooms, which look missing; logic shared with the DDP methods lives with
// them (visitors.go, inquiries.go).

// Rocket.Chat's error codes of the visitor endpoints that the DDP methods
// have no equivalent for.
const (
	codeInvalidAgent        = "invalid-agent"
	codeAgentNotFound       = "agent-not-found"
	codeVisitorHasOpenRooms = "visitor-has-open-rooms"
)

// ClosedByVisitor is the comment of a room the visitor closed.
const ClosedByVisitor = "Closed by visitor"

// agentInfo is an agent as a visitor sees it (livechat/agent.info,
// agent.next, the agent of livechat/config and getInitialData's agentData).
type agentInfo struct {
	ID       string  `json:"_id"`
	Username string  `json:"username"`
	Name     string  `json:"name,omitempty"`
	Status   string  `json:"status"`
	Emails   []email `json:"emails,omitempty"`
}

func (b *Bridge) toAgentInfo(a *livechat.Agent) agentInfo {
	info := agentInfo{ID: a.AccountID, Username: a.Username, Name: a.Name, Status: presenceOf(b.svc.EffectiveRoutingStatus(a))}
	if a.Email != "" {
		info.Emails = []email{{Address: a.Email, Verified: true}}
	}
	return info
}

// LivechatConfig is REST livechat/config: the widget's configuration, with
// the visitor of token (when known), its open room and the agent serving
// it; online is for department dept when given. The values are
// livechat:getInitialData's, nested as Rocket.Chat's REST API nests them.
func (b *Bridge) LivechatConfig(ctx context.Context, token, dept string) (map[string]any, error) {
	st, err := b.widgetState(ctx, token, dept)
	if err != nil {
		return nil, rcError(err, "livechat/config", "")
	}
	config := map[string]any{
		"enabled": true,
		"settings": map[string]any{
			"registrationForm": true, "allowSwitchingDepartments": true, "nameFieldRegistrationForm": true,
			"emailFieldRegistrationForm": true, "displayOfflineForm": true, "videoCall": false, "fileUpload": false,
			"language": widgetLanguage, "transcript": false, "historyMonitorType": "url", "forceAcceptDataProcessingConsent": false,
			"showConnecting": false, "agentHiddenInfo": false, "clearLocalStorageWhenChatEnded": false,
			"limitTextLength": livechat.MaxMessageText,
		},
		"theme": map[string]any{
			"title": b.cfg.SiteName, "color": widgetColor, "offlineTitle": widgetOfflineTitle, "offlineColor": widgetOfflineColor,
			"position": "right",
		},
		"messages": map[string]any{
			"offlineMessage": widgetOfflineMessage, "offlineSuccessMessage": widgetOfflineSuccess,
			"offlineUnavailableMessage": widgetOfflineUnavailable, "conversationFinishedMessage": widgetConversationFinished,
			"conversationFinishedText": "", "transcriptMessage": "", "registrationFormMessage": "", "dataProcessingConsentText": "",
		},
		"survey":      map[string]any{},
		"triggers":    []any{},
		"departments": st.departments,
		"resources":   map[string]any{},
		"online":      st.online,
	}
	if st.visitor != nil {
		config["guest"] = st.visitor
	}
	if st.room != nil {
		config["room"] = st.room
	}
	if st.agent != nil {
		config["agent"] = st.agent
	}
	return config, nil
}

// Visitor is REST GET livechat/visitor/:token: the visitor document.
func (b *Bridge) Visitor(ctx context.Context, token string) (any, error) {
	actor, err := b.visitorActor(ctx, token, "livechat/visitor")
	if err != nil {
		return nil, err
	}
	return toVisitorDoc(actor.Customer, token), nil
}

// DeleteVisitor is REST DELETE livechat/visitor/:token: the token is
// forgotten and the customer's personal data erased
// (livechat.Service.EraseVisitor); refused while the visitor has an open
// room. It answers the visitor's id and the time.
func (b *Bridge) DeleteVisitor(ctx context.Context, token string) (map[string]any, error) {
	const method = "livechat/visitor"
	if _, err := b.visitorActor(ctx, token, method); err != nil {
		return nil, err
	}
	c, err := b.svc.EraseVisitor(ctx, token)
	switch {
	case errors.Is(err, livechat.ErrVisitorHasOpenChats):
		return nil, newErr(codeVisitorHasOpenRooms, "Cannot remove visitors with opened rooms", method)
	case livechat.IsType(err, livechat.TypeNotFound):
		return nil, newErr(codeInvalidToken, "Invalid token", method)
	case err != nil:
		return nil, rcError(err, method, "")
	}
	b.people.forget(c.ID)
	return map[string]any{"_id": c.ID, "ts": b.clock.Now().UTC().Truncate(time.Millisecond)}, nil
}

// VisitorCloseRoom is REST livechat/room.close: the visitor closes its
// room, as livechat:closeByVisitor does. It answers the close comment.
func (b *Bridge) VisitorCloseRoom(ctx context.Context, token, rid string) (string, error) {
	const method = "livechat/room.close"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return "", err
	}
	if err := b.closeVisitorRoom(ctx, actor, rid, method); err != nil {
		return "", err
	}
	return ClosedByVisitor, nil
}

// VisitorTransfer is REST livechat/room.transfer: the visitor moves its
// open room to department dept, with livechat:transfer's logic carried
// out by the system once the visitor's access is checked. It answers the
// room as it is afterwards.
func (b *Bridge) VisitorTransfer(ctx context.Context, token, rid, dept string) (any, error) {
	const method = "livechat/room.transfer"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return nil, err
	}
	if dept == "" {
		return nil, newErr(codeInvalidParams, "The 'department' param is required", method)
	}
	c, err := b.visitorChat(ctx, actor, rid, method)
	if err != nil {
		return nil, err
	}
	if !c.Active() {
		return nil, newErr(codeRoomClosed, "Room closed", method)
	}
	if err := b.transferRoom(ctx, livechat.System(), c.ID, "", dept, method); err != nil {
		return nil, err
	}
	if c, err = b.visitorChat(ctx, actor, rid, method); err != nil {
		return nil, err
	}
	return b.toRoom(ctx, c, nil), nil
}

// visitorChat is room rid when the visitor may read it; a missing room and
// another visitor's answer the same.
func (b *Bridge) visitorChat(ctx context.Context, actor livechat.Actor, rid, method string) (*livechat.Chat, error) {
	if rid == "" {
		return nil, newErr(codeInvalidRoom, "Invalid room", method)
	}
	c, err := b.svc.ReadChat(ctx, actor, rid)
	if err != nil {
		return nil, rcError(err, method, codeInvalidRoom)
	}
	return c, nil
}

// VisitorAgent is REST livechat/agent.info/:rid/:token: the agent serving
// the visitor's room.
func (b *Bridge) VisitorAgent(ctx context.Context, token, rid string) (any, error) {
	const method = "livechat/agent.info"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return nil, err
	}
	c, err := b.visitorChat(ctx, actor, rid, method)
	if err != nil {
		return nil, err
	}
	a := b.servingAgent(ctx, c)
	if a == nil {
		return nil, newErr(codeInvalidAgent, "Invalid agent", method)
	}
	return b.toAgentInfo(a), nil
}

// servingAgent is the agent serving chat c (its first agent), nil when
// there is none.
func (b *Bridge) servingAgent(ctx context.Context, c *livechat.Chat) *livechat.Agent {
	ids := c.AgentIDs()
	if len(ids) == 0 {
		return nil
	}
	a, err := b.svc.Store().Agents().Get(ctx, ids[0])
	if err != nil {
		return nil
	}
	return a
}

// NextAgent is REST livechat/agent.next/:token: the agent a new chat of
// department dept (default: the visitor's) would go to now. A visitor with
// an open room has its agent already: nil, as Rocket.Chat answers no agent.
func (b *Bridge) NextAgent(ctx context.Context, token, dept string) (any, error) {
	const method = "livechat/agent.next"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return nil, err
	}
	if open, err := b.openChat(ctx, actor.ID); err != nil {
		return nil, rcError(err, method, "")
	} else if open != nil {
		return nil, nil
	}
	group, err := department(dept)
	if err != nil {
		return nil, rcError(err, method, "")
	}
	p, err := b.svc.PredictAgent(ctx, actor, group)
	switch {
	case livechat.IsType(err, livechat.TypeGroupOffline), livechat.IsType(err, livechat.TypeGroupUnavailable):
		return nil, newErr(codeAgentNotFound, "No agent available", method)
	case err != nil:
		return nil, rcError(err, method, "")
	}
	return b.toAgentInfo(p.Agent), nil
}

// visitorEvent is message id of the visitor's room rid: a message of
// another room, deleted, or not visible to the visitor is a missing one.
func (b *Bridge) visitorEvent(ctx context.Context, token, rid, id, method string) (livechat.Actor, *livechat.Event, error) {
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return livechat.Actor{}, nil, err
	}
	c, err := b.visitorChat(ctx, actor, rid, method)
	if err != nil {
		return livechat.Actor{}, nil, err
	}
	e, ec, err := b.svc.GetChatEvent(ctx, actor, id)
	switch {
	case err != nil && !livechat.IsType(err, livechat.TypeNotFound) && !livechat.IsType(err, livechat.TypeValidation):
		return livechat.Actor{}, nil, rcError(err, method, codeInvalidMessage)
	case err != nil || ec.ID != c.ID || livechat.EventDeleted(e):
		return livechat.Actor{}, nil, newErr(codeInvalidMessage, "Invalid message", method)
	}
	return actor, e, nil
}

// VisitorGetMessage is REST GET livechat/message/:_id.
func (b *Bridge) VisitorGetMessage(ctx context.Context, token, rid, id string) (any, error) {
	_, e, err := b.visitorEvent(ctx, token, rid, id, "livechat/message")
	if err != nil {
		return nil, err
	}
	return b.toMessage(ctx, e), nil
}

// VisitorEditMessage is REST PUT livechat/message/:_id: the visitor edits
// the text of its own message (updateMessage's logic).
func (b *Bridge) VisitorEditMessage(ctx context.Context, token, rid, id, msg string) (any, error) {
	const method = "livechat/message"
	actor, e, err := b.visitorEvent(ctx, token, rid, id, method)
	if err != nil {
		return nil, err
	}
	if msg == "" {
		return nil, newErr(codeInvalidParams, "The 'msg' param is required", method)
	}
	// UpdateMessage leaves an unchanged text alone without asking the
	// core, so the author rule is checked here first.
	if e.AuthorID != actor.ID {
		return nil, newErr(codeActionNotAllowed, "Message editing not allowed", method)
	}
	return b.UpdateMessage(ctx, actor, rid, id, msg)
}

// VisitorDeleteMessage is REST DELETE livechat/message/:_id: the visitor
// deletes its own message (deleteMessage's logic). It answers the time.
func (b *Bridge) VisitorDeleteMessage(ctx context.Context, token, rid, id string) (time.Time, error) {
	actor, _, err := b.visitorEvent(ctx, token, rid, id, "livechat/message")
	if err != nil {
		return time.Time{}, err
	}
	if err := b.DeleteMessage(ctx, actor, rid, id); err != nil {
		return time.Time{}, err
	}
	return b.clock.Now().UTC().Truncate(time.Millisecond), nil
}

// OfflineMessage is REST livechat/offline.message, as
// livechat:sendOfflineMessage.
func (b *Bridge) OfflineMessage(ctx context.Context, name, mail, text, dept string) error {
	const method = "livechat/offline.message"
	if name == "" || mail == "" || strings.TrimSpace(text) == "" {
		return newErr(codeInvalidParams, "The 'name', 'email' and 'message' params are required", method)
	}
	return b.offlineMessage(ctx, name, mail, text, dept, method)
}

// PageVisited is REST livechat/page.visited: a page the visitor opened
// (change "url") joins the customer's visit as LiveChat's
// update_customer_page does, which the agents monitoring the customer
// hear. Rocket.Chat also writes a navigation message into the room; the
// core keeps pages on the customer, not in chats, so rid is not used.
// Other changes (a title only) are not recorded: nil.
func (b *Bridge) PageVisited(ctx context.Context, token, change, title, href string) (map[string]any, error) {
	const method = "livechat/page.visited"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return nil, err
	}
	if change != "url" {
		return nil, nil
	}
	if err := b.svc.UpdateCustomerPage(ctx, actor, href, title); err != nil {
		return nil, rcError(err, method, "")
	}
	page := map[string]any{"change": change, "title": title, "location": map[string]any{"href": href}}
	return map[string]any{"msg": title + " - " + href, "navigation": map[string]any{"page": page, "token": token}}, nil
}

// SetCustomFields is REST livechat/custom.field and custom.fields: each
// field becomes a session field of the visitor's customer (an existing key
// changes only with overwrite).
func (b *Bridge) SetCustomFields(ctx context.Context, token string, fields []livechat.SessionField) error {
	const method = "livechat/custom.fields"
	actor, err := b.visitorActor(ctx, token, method)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		return newErr(codeInvalidParams, "At least one custom field is required", method)
	}
	c, err := b.svc.SetSessionFields(ctx, actor, actor.ID, fields)
	if err != nil {
		return rcError(err, method, codeInvalidToken)
	}
	b.people.forget(c.ID)
	return nil
}

// VisitorStatus is REST livechat/visitor.status. The core derives a
// visitor's status from its live sessions, so the status is checked and
// acknowledged, not stored.
func (b *Bridge) VisitorStatus(ctx context.Context, token, status string) error {
	const method = "livechat/visitor.status"
	if _, err := b.visitorActor(ctx, token, method); err != nil {
		return err
	}
	switch status {
	case "online", "away", "busy", "offline":
		return nil
	}
	return newErr(codeInvalidParams, "The 'status' param must be online, away, busy or offline", method)
}
