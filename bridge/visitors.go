package bridge

import (
	"context"
	"strconv"
	"strings"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Omnichannel, visitor side (spec §8.5). A visitor never logs in: each call
// carries the token its widget generated, which names a LiveChat customer
// (livechat.RegisterVisitor). The first call that names a known token ties
// the DDP session to that customer, as a Customer RTM login does: the
// customer counts as online while the session lives
// (CustomerConnected/CustomerDisconnected) and the session hears its chats'
// events. Rocket.Chat departments are LiveChat groups, by id.

// identifyVisitor ties the session to the customer token names (already
// registered). A department, when given, becomes the customer's group.
func (b *Bridge) identifyVisitor(ctx context.Context, c *conn, token string, group *int) (*livechat.Customer, error) {
	c.mu.Lock()
	if c.visitor != nil && c.vtoken == token && group == nil {
		v := c.visitor
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	cust, err := b.svc.VisitorByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	cust, err = b.svc.CustomerConnected(ctx, livechat.CustomerActor(cust), livechat.CustomerLoginInput{GroupID: group})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	prev, wasPresent := c.visitor, c.vpresent
	c.visitor, c.vtoken, c.vpresent = cust, token, true
	c.mu.Unlock()
	if wasPresent { // a second CustomerConnected was made above: pair one
		b.svc.CustomerDisconnected(ctx, prev.ID)
	}
	c.syncHub()
	return cust, nil
}

// visitorDoc is the visitor as registerGuest and getInitialData show it.
type visitorDoc struct {
	ID            string    `json:"_id"`
	Token         string    `json:"token"`
	Name          string    `json:"name,omitempty"`
	Username      string    `json:"username"`
	VisitorEmails []address `json:"visitorEmails,omitempty"`
	Department    string    `json:"department,omitempty"`
}

type address struct {
	Address string `json:"address"`
}

func toVisitorDoc(c *livechat.Customer, token string) visitorDoc {
	v := visitorDoc{ID: c.ID, Token: token, Name: c.Name, Username: guestPrefix + c.ID}
	if c.Email != "" {
		v.VisitorEmails = []address{{Address: c.Email}}
	}
	for _, g := range c.GroupIDs {
		if g != 0 {
			v.Department = strconv.Itoa(g)
		}
	}
	return v
}

// department reads a Rocket.Chat department id as a group id.
func department(s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	g, err := strconv.Atoi(s)
	if err != nil || g < 0 {
		return nil, livechat.Errorf(livechat.TypeGroupNotFound, "department %q not found", s)
	}
	return &g, nil
}

func (b *Bridge) registerGuest(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		Token      string `json:"token"`
		Name       string `json:"name"`
		Email      string `json:"email"`
		Department string `json:"department"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	in := livechat.CustomerInput{}
	if req.Name != "" {
		in.Name = &req.Name
	}
	if req.Email != "" {
		in.Email = &req.Email
	}
	group, err := department(req.Department)
	if err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	if _, _, err := b.svc.RegisterVisitor(ctx, req.Token, in); err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	cust, err := b.identifyVisitor(ctx, b.connOf(inv.Session), req.Token, group)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidVisitor)
	}
	return map[string]any{"userId": cust.ID, "visitor": toVisitorDoc(cust, req.Token)}, nil
}

func (b *Bridge) setUpConnection(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		Token string `json:"token"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	if _, err := b.identifyVisitor(ctx, b.connOf(inv.Session), req.Token, nil); err != nil {
		return nil, rcError(err, inv.Method, codeInvalidToken)
	}
	return nil, nil
}

// visitorCall identifies the visitor of a method's token.
func (b *Bridge) visitorCall(ctx context.Context, inv *ddp.Invocation, token string) (livechat.Actor, error) {
	cust, err := b.identifyVisitor(ctx, b.connOf(inv.Session), token, nil)
	if err != nil {
		if livechat.IsType(err, livechat.TypeNotFound) {
			return livechat.Actor{}, newErr(codeInvalidToken, "Invalid token", inv.Method)
		}
		return livechat.Actor{}, rcError(err, inv.Method, codeInvalidToken)
	}
	return livechat.CustomerActor(cust), nil
}

// getInitialData is the widget's configuration: groups are the
// departments, "online" says whether any group has an agent accepting chats.
func (b *Bridge) getInitialData(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var token, dept string
	if err := inv.Params.Decode(&token, &dept); err != nil {
		return nil, err
	}
	groups, err := b.svc.ListGroups(ctx, livechat.System())
	if err != nil {
		return nil, err
	}
	avail, err := b.svc.GroupAvailabilities(ctx, nil)
	if err != nil {
		return nil, err
	}
	online := false
	departments := []map[string]any{}
	for _, g := range groups {
		online = online || avail[g.ID] != livechat.GroupOffline
		if g.ID != 0 {
			departments = append(departments, map[string]any{"_id": strconv.Itoa(g.ID), "name": g.Name, "enabled": true,
				"showOnRegistration": true, "showOnOfflineForm": true})
		}
	}
	var visitor, openRoom any
	if cust, err := b.svc.VisitorByToken(ctx, token); err == nil {
		visitor = toVisitorDoc(cust, token)
		chats, err := b.svc.Store().Chats().Find(ctx, livechat.Where(livechat.Eq("customer_id", cust.ID),
			livechat.Cond{Field: "active_thread_id", Op: livechat.OpNe, Value: ""}))
		if err == nil && len(chats) > 0 {
			r := b.toRoom(ctx, &chats[0], nil)
			openRoom = r
		}
	}
	title := b.cfg.SiteName
	return map[string]any{
		"enabled": true, "title": title, "color": "#C1272D", "registrationForm": true, "room": openRoom, "visitor": visitor,
		"triggers": []any{}, "departments": departments, "allowSwitchingDepartments": true, "online": online,
		"offlineColor": "#666666", "offlineMessage": "We are not online right now. Leave a message.",
		"offlineSuccessMessage": "Thank you, we will get back to you.", "offlineUnavailableMessage": "Not available",
		"displayOfflineForm": true, "videoCall": false, "fileUpload": false,
		"conversationFinishedMessage": "Conversation finished", "conversationFinishedText": "",
		"nameFieldRegistrationForm": true, "emailFieldRegistrationForm": true, "registrationFormMessage": "",
		"showConnecting": false, "offlineTitle": "Leave a message", "language": "en", "transcript": false,
		"transcriptMessage": "", "agentData": nil,
	}, nil
}

// sendMessageLivechat is a visitor's message. The widget chose the room id:
// the first message to an unknown id starts a chat with that id
// (StartChatWithID); one to the visitor's inactive chat opens a new thread
// in it. The message keeps the client's _id (SendEventWithID).
func (b *Bridge) sendMessageLivechat(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		ID    string `json:"_id"`
		RID   string `json:"rid"`
		Msg   string `json:"msg"`
		Token string `json:"token"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	actor, err := b.visitorCall(ctx, inv, req.Token)
	if err != nil {
		return nil, err
	}
	if len(req.Msg) > livechat.MaxMessageText {
		return nil, newErr("message-length-exceeds-character-limit", "Message length exceeds character limit", inv.Method)
	}
	if req.RID == "" || strings.TrimSpace(req.Msg) == "" {
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	newRoom := false
	chat, err := b.svc.ReadChat(ctx, actor, req.RID)
	switch {
	case err == nil && !chat.Active():
		if _, err := b.svc.ResumeChat(ctx, actor, chat.ID, livechat.ThreadInput{}, true); err != nil {
			return nil, rcError(err, inv.Method, "")
		}
	case err == nil:
	case b.unusedChatID(ctx, req.RID):
		if _, err := b.svc.StartChatWithID(ctx, actor, req.RID); err != nil {
			return nil, rcError(err, inv.Method, "")
		}
		newRoom = true
	default:
		return nil, newErr(codeCannotAccessRoom, "Cannot access room", inv.Method)
	}
	ev, _, err := b.svc.SendEventWithID(ctx, actor, req.RID, req.ID, livechat.Event{Type: livechat.EventMessage, Text: req.Msg}, livechat.SendEventOptions{})
	if err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	m := b.toMessage(ctx, ev)
	return struct {
		message
		NewRoom        bool `json:"newRoom"`
		ShowConnecting bool `json:"showConnecting"`
	}{m, newRoom, false}, nil
}

func (b *Bridge) closeByVisitor(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		RoomID string `json:"roomId"`
		Token  string `json:"token"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	actor, err := b.visitorCall(ctx, inv, req.Token)
	if err != nil {
		return nil, err
	}
	if err := b.svc.DeactivateChat(ctx, actor, req.RoomID, false); err != nil {
		return nil, rcError(err, inv.Method, codeInvalidRoom)
	}
	return true, nil
}

// sendOfflineMessage has no e-mail to go to: the message becomes a chat of
// a new customer (name, e-mail) whose only thread was never active, which
// agents find in the archives.
func (b *Bridge) sendOfflineMessage(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var req struct {
		Name       string `json:"name"`
		Email      string `json:"email"`
		Message    string `json:"message"`
		Department string `json:"department"`
	}
	if err := inv.Params.Decode(&req); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Message) == "" || req.Email == "" {
		return nil, &ddp.Error{Code: 400, Reason: "Match failed"}
	}
	cust, err := b.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{Name: &req.Name, Email: &req.Email})
	if err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	in := livechat.StartChatInput{Thread: livechat.ThreadInput{Events: []livechat.Event{{Type: livechat.EventMessage, Text: req.Message}}}}
	if g, err := department(req.Department); err == nil && g != nil {
		in.Access = &livechat.Access{GroupIDs: []int{*g}}
	}
	if _, err := b.svc.StartChat(ctx, livechat.CustomerActor(cust), in); err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	return nil, nil
}
