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
	ID            string            `json:"_id"`
	Token         string            `json:"token"`
	Name          string            `json:"name,omitempty"`
	Username      string            `json:"username"`
	VisitorEmails []address         `json:"visitorEmails,omitempty"`
	Department    string            `json:"department,omitempty"`
	LivechatData  map[string]string `json:"livechatData,omitempty"`
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
	for _, f := range c.SessionFields { // the visitor's custom fields
		for k, val := range f {
			if v.LivechatData == nil {
				v.LivechatData = map[string]string{}
			}
			v.LivechatData[k] = val
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

// Guest is what livechat:registerGuest and REST livechat/visitor take.
type Guest struct {
	Token        string `json:"token"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	Department   string `json:"department"`
	CustomFields []struct {
		Key       string `json:"key"`
		Value     string `json:"value"`
		Overwrite bool   `json:"overwrite"`
	} `json:"customFields"`
}

// registerVisitor creates or updates the visitor of g.Token with its name,
// e-mail and custom fields (session fields of the customer); it returns
// the customer and the department asked for (nil: none).
func (b *Bridge) registerVisitor(ctx context.Context, g Guest) (*livechat.Customer, *int, error) {
	in := livechat.CustomerInput{}
	if g.Name != "" {
		in.Name = &g.Name
	}
	if g.Email != "" {
		in.Email = &g.Email
	}
	group, err := department(g.Department)
	if err != nil {
		return nil, nil, err
	}
	cust, _, err := b.svc.RegisterVisitor(ctx, g.Token, in)
	if err != nil {
		return nil, nil, err
	}
	if len(g.CustomFields) > 0 {
		fields := make([]livechat.SessionField, 0, len(g.CustomFields))
		for _, f := range g.CustomFields {
			fields = append(fields, livechat.SessionField{Key: f.Key, Value: f.Value, Overwrite: f.Overwrite})
		}
		if cust, err = b.svc.SetSessionFields(ctx, livechat.CustomerActor(cust), cust.ID, fields); err != nil {
			return nil, nil, err
		}
		b.people.forget(cust.ID)
	}
	return cust, group, nil
}

func (b *Bridge) registerGuest(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var g Guest
	if err := inv.Params.Decode(&g); err != nil {
		return nil, err
	}
	_, group, err := b.registerVisitor(ctx, g)
	if err != nil {
		return nil, rcError(err, inv.Method, "")
	}
	cust, err := b.identifyVisitor(ctx, b.connOf(inv.Session), g.Token, group)
	if err != nil {
		return nil, rcError(err, inv.Method, codeInvalidVisitor)
	}
	return map[string]any{"userId": cust.ID, "visitor": toVisitorDoc(cust, g.Token)}, nil
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

// Widget texts and colours, the same for livechat:getInitialData and REST
// livechat/config.
const (
	widgetColor                = "#C1272D"
	widgetOfflineColor         = "#666666"
	widgetOfflineTitle         = "Leave a message"
	widgetOfflineMessage       = "We are not online right now. Leave a message."
	widgetOfflineSuccess       = "Thank you, we will get back to you."
	widgetOfflineUnavailable   = "Not available"
	widgetConversationFinished = "Conversation finished"
	widgetLanguage             = "en"
)

// widgetState is what the widget's configuration says about the moment:
// the departments (groups other than 0), whether an agent accepts chats,
// and for a known visitor token the visitor, its open room and the agent
// serving it.
type widgetState struct {
	departments []map[string]any
	online      bool
	visitor     *visitorDoc
	room        *room
	agent       *agentInfo
}

// widgetState computes the state for token (may be unknown or empty) and
// department dept: with a department, online says whether that group has
// an agent accepting chats; without, whether any group has.
func (b *Bridge) widgetState(ctx context.Context, token, dept string) (widgetState, error) {
	groups, err := b.svc.ListGroups(ctx, livechat.System())
	if err != nil {
		return widgetState{}, err
	}
	avail, err := b.svc.GroupAvailabilities(ctx, nil)
	if err != nil {
		return widgetState{}, err
	}
	st := widgetState{departments: []map[string]any{}}
	only, err := department(dept)
	if err != nil { // no such group: nobody of it is online
		none := -1
		only = &none
	}
	for _, g := range groups {
		if only == nil || *only == g.ID {
			st.online = st.online || avail[g.ID] != livechat.GroupOffline
		}
		if g.ID != 0 {
			st.departments = append(st.departments, map[string]any{"_id": strconv.Itoa(g.ID), "name": g.Name, "enabled": true,
				"showOnRegistration": true, "showOnOfflineForm": true})
		}
	}
	if token == "" {
		return st, nil
	}
	cust, err := b.svc.VisitorByToken(ctx, token)
	if err != nil {
		return st, nil // an unknown visitor sees the configuration alone
	}
	v := toVisitorDoc(cust, token)
	st.visitor = &v
	if c, err := b.openChat(ctx, cust.ID); err == nil && c != nil {
		r := b.toRoom(ctx, c, nil)
		st.room = &r
		if a := b.servingAgent(ctx, c); a != nil {
			info := b.toAgentInfo(a)
			st.agent = &info
		}
	}
	return st, nil
}

// openChat is the customer's active chat, nil when it has none.
func (b *Bridge) openChat(ctx context.Context, customerID string) (*livechat.Chat, error) {
	chats, err := b.svc.Store().Chats().Find(ctx, livechat.Where(livechat.Eq("customer_id", customerID),
		livechat.Cond{Field: "active_thread_id", Op: livechat.OpNe, Value: ""}))
	if err != nil || len(chats) == 0 {
		return nil, err
	}
	return &chats[0], nil
}

// getInitialData is the widget's configuration in the flat shape of the
// deprecated method (REST livechat/config nests the same values).
func (b *Bridge) getInitialData(ctx context.Context, inv *ddp.Invocation) (any, error) {
	var token, dept string
	if err := inv.Params.Decode(&token, &dept); err != nil {
		return nil, err
	}
	st, err := b.widgetState(ctx, token, dept)
	if err != nil {
		return nil, err
	}
	return map[string]any{ // nil pointers are JSON null
		"enabled": true, "title": b.cfg.SiteName, "color": widgetColor, "registrationForm": true, "room": st.room, "visitor": st.visitor,
		"triggers": []any{}, "departments": st.departments, "allowSwitchingDepartments": true, "online": st.online,
		"offlineColor": widgetOfflineColor, "offlineMessage": widgetOfflineMessage,
		"offlineSuccessMessage": widgetOfflineSuccess, "offlineUnavailableMessage": widgetOfflineUnavailable,
		"displayOfflineForm": true, "videoCall": false, "fileUpload": false,
		"conversationFinishedMessage": widgetConversationFinished, "conversationFinishedText": "",
		"nameFieldRegistrationForm": true, "emailFieldRegistrationForm": true, "registrationFormMessage": "",
		"showConnecting": false, "offlineTitle": widgetOfflineTitle, "language": widgetLanguage, "transcript": false,
		"transcriptMessage": "", "agentData": st.agent,
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
	if err := b.closeVisitorRoom(ctx, actor, req.RoomID, inv.Method); err != nil {
		return nil, err
	}
	return true, nil
}

// closeVisitorRoom is the visitor closing its room (livechat:closeByVisitor,
// REST livechat/room.close): the chat's active thread closes with the
// customer's system message. Another visitor's room is a missing one.
func (b *Bridge) closeVisitorRoom(ctx context.Context, actor livechat.Actor, rid, method string) error {
	if rid == "" {
		return newErr(codeInvalidRoom, "Invalid room", method)
	}
	return rcError(b.svc.DeactivateChat(ctx, actor, rid, false), method, codeInvalidRoom)
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
	return nil, b.offlineMessage(ctx, req.Name, req.Email, req.Message, req.Department, inv.Method)
}

// offlineMessage stores an offline message (livechat:sendOfflineMessage,
// REST livechat/offline.message) as the chat of a new customer; an unknown
// department is ignored.
func (b *Bridge) offlineMessage(ctx context.Context, name, mail, text, dept, method string) error {
	cust, err := b.svc.CreateCustomer(ctx, livechat.System(), livechat.CustomerInput{Name: &name, Email: &mail})
	if err != nil {
		return rcError(err, method, "")
	}
	in := livechat.StartChatInput{Thread: livechat.ThreadInput{Events: []livechat.Event{{Type: livechat.EventMessage, Text: text}}}}
	if g, err := department(dept); err == nil && g != nil {
		in.Access = &livechat.Access{GroupIDs: []int{*g}}
	}
	if _, err := b.svc.StartChat(ctx, livechat.CustomerActor(cust), in); err != nil {
		return rcError(err, method, "")
	}
	return nil
}
