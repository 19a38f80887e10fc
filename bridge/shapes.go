package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// The Rocket.Chat documents chatbridge sends (spec §11), built from the
// LiveChat model. Dates are time.Time, which ddp encodes as EJSON $date.
// docs/rocketchat-mapping.md is the table of this mapping.

// Room types and the omnichannel system message types used.
const (
	roomLivechat    = "l"
	msgLivechatOpen = "livechat-started"
	msgLivechatEnd  = "livechat-close"
)

// closeMessageTypes are the LiveChat system messages that close a thread;
// they become Rocket.Chat's livechat-close.
var closeMessageTypes = []string{"manual_archived_agent", "manual_archived_customer", "routing.archived_inactive", "routing.archived_offline", "routing.archived_remove_agent"}

type message struct {
	ID           string              `json:"_id"`
	RID          string              `json:"rid"`
	Msg          string              `json:"msg"`
	TS           time.Time           `json:"ts"`
	U            userRef             `json:"u"`
	UpdatedAt    time.Time           `json:"_updatedAt"`
	T            string              `json:"t,omitempty"`
	Groupable    *bool               `json:"groupable,omitempty"`
	Alias        string              `json:"alias,omitempty"`
	Attachments  []attachment        `json:"attachments,omitempty"`
	File         *fileRef            `json:"file,omitempty"`
	Files        []fileRef           `json:"files,omitempty"`
	Reactions    map[string]reaction `json:"reactions,omitempty"`
	EditedAt     *time.Time          `json:"editedAt,omitempty"`
	EditedBy     *userRef            `json:"editedBy,omitempty"`
	Mentions     []userRef           `json:"mentions"`
	Channels     []userRef           `json:"channels"`
	CustomFields map[string]any      `json:"customFields,omitempty"`
}

type reaction struct {
	Usernames []string `json:"usernames"`
}

type fileRef struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	Size int64  `json:"size,omitempty"`
}

type dimensions struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

type attachment struct {
	Type              string       `json:"type,omitempty"`
	Title             string       `json:"title,omitempty"`
	TitleLink         string       `json:"title_link,omitempty"`
	TitleLinkDownload bool         `json:"title_link_download,omitempty"`
	Text              string       `json:"text,omitempty"`
	ImageURL          string       `json:"image_url,omitempty"`
	ImageType         string       `json:"image_type,omitempty"`
	ImageSize         int64        `json:"image_size,omitempty"`
	ImageDimensions   *dimensions  `json:"image_dimensions,omitempty"`
	ThumbURL          string       `json:"thumb_url,omitempty"`
	Fields            []attField   `json:"fields,omitempty"`
	Actions           []attAction  `json:"actions,omitempty"`
	Attachments       []attachment `json:"attachments,omitempty"`
}

type attField struct {
	Short bool   `json:"short"`
	Title string `json:"title"`
	Value string `json:"value"`
}

type attAction struct {
	Type            string `json:"type"`
	Text            string `json:"text"`
	URL             string `json:"url,omitempty"`
	Msg             string `json:"msg,omitempty"`
	MsgInChatWindow bool   `json:"msg_in_chat_window,omitempty"`
}

var no = false

// toMessage turns a LiveChat event into a Rocket.Chat message (_id = event
// id, rid = chat id). The author's person is looked up through b.people.
func (b *Bridge) toMessage(ctx context.Context, e *livechat.Event) message {
	author, _ := b.people.get(ctx, e.AuthorID)
	m := message{ID: e.ID, RID: e.ChatID, TS: e.CreatedAt, UpdatedAt: e.CreatedAt, U: author.ref, Mentions: []userRef{}, Channels: []userRef{}}
	if author.customer != nil && author.customer.Name != "" {
		m.Alias = author.customer.Name
	}
	switch e.Type {
	case livechat.EventMessage:
		m.Msg = e.Text
	case livechat.EventSystemMessage:
		m.Msg, m.Groupable, m.U = e.Text, &no, rocketCat
		if slices.Contains(closeMessageTypes, e.SystemMessageType) || strings.HasPrefix(e.SystemMessageType, "manual_archived") {
			m.T = msgLivechatEnd
		}
	case livechat.EventFile:
		f := fileRef{ID: e.ID, Name: e.Name, Type: e.ContentType, Size: e.Size}
		m.File, m.Files = &f, []fileRef{f}
		a := attachment{Type: "file", Title: e.Name, TitleLink: e.URL, TitleLinkDownload: true}
		if strings.HasPrefix(e.ContentType, "image/") {
			a.ImageURL, a.ImageType, a.ImageSize, a.ThumbURL = e.URL, e.ContentType, e.Size, e.ThumbnailURL
			if e.Width > 0 && e.Height > 0 {
				a.ImageDimensions = &dimensions{Width: e.Width, Height: e.Height}
			}
		}
		m.Attachments = []attachment{a}
	case livechat.EventRichMessage:
		m.Msg = e.Text
		for _, el := range e.Elements {
			m.Attachments = append(m.Attachments, richAttachment(el))
		}
	case livechat.EventForm, livechat.EventFilledForm:
		a := attachment{Title: e.FormType, Fields: formFields(e.Fields)}
		if a.Title == "" {
			a.Title = e.Type
		}
		m.Attachments = []attachment{a}
	case livechat.EventCustom:
		m.CustomFields = map[string]any{"livechat": map[string]any{"type": e.Type, "content": e.Content}}
	}
	if e.Visibility == livechat.VisibilityAgents {
		if m.CustomFields == nil {
			m.CustomFields = map[string]any{}
		}
		m.CustomFields["visibility"] = livechat.VisibilityAgents
	}
	rc := e.Properties[livechat.RCNamespace]
	if at, ok := rc[livechat.RCEditedAt].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			m.EditedAt, m.UpdatedAt = &t, t
			by, _ := rc[livechat.RCEditedBy].(string)
			editor, _ := b.people.get(ctx, by)
			m.EditedBy = &userRef{ID: editor.ref.ID, Username: editor.ref.Username}
		}
	}
	if r := livechat.EventReactions(e); len(r) > 0 {
		m.Reactions = make(map[string]reaction, len(r))
		for emoji, users := range r {
			m.Reactions[emoji] = reaction{Usernames: users}
		}
	}
	return m
}

// threadStarted is the omnichannel "livechat-started" system message that
// stands for the start of a LiveChat thread: its _id is the thread id.
func (b *Bridge) threadStarted(ctx context.Context, c *livechat.Chat, t *livechat.Thread) message {
	who, _ := b.people.get(ctx, c.CustomerID)
	if c.CustomerID == "" {
		who.ref = rocketCat
	}
	return message{ID: t.ID, RID: c.ID, TS: t.CreatedAt, UpdatedAt: t.CreatedAt, U: who.ref, T: msgLivechatOpen, Groupable: &no,
		Mentions: []userRef{}, Channels: []userRef{}}
}

// richAttachment turns one rich message element (a card) into an attachment.
func richAttachment(el any) attachment {
	m, _ := el.(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	a := attachment{Title: str("title"), Text: str("subtitle")}
	if img, ok := m["image"].(map[string]any); ok {
		a.ImageURL, _ = img["url"].(string)
	}
	buttons, _ := m["buttons"].([]any)
	for _, bt := range buttons {
		bm, _ := bt.(map[string]any)
		text, _ := bm["text"].(string)
		typ, _ := bm["type"].(string)
		val, _ := bm["value"].(string)
		act := attAction{Type: "button", Text: text}
		switch typ {
		case "url", "webview":
			act.URL = val
		default:
			act.Msg, act.MsgInChatWindow = val, true
			if act.Msg == "" {
				act.Msg = text
			}
		}
		a.Actions = append(a.Actions, act)
	}
	return a
}

// formFields turns (filled) form fields into attachment fields.
func formFields(fields []any) []attField {
	out := []attField{}
	for _, f := range fields {
		m, _ := f.(map[string]any)
		label, _ := m["label"].(string)
		var value string
		switch {
		case m["answer"] != nil:
			value = fmt.Sprint(answerText(m["answer"]))
		case m["answers"] != nil:
			as, _ := m["answers"].([]any)
			parts := make([]string, 0, len(as))
			for _, a := range as {
				parts = append(parts, answerText(a))
			}
			value = strings.Join(parts, ", ")
		}
		out = append(out, attField{Title: label, Value: value})
	}
	return out
}

func answerText(a any) string {
	if m, ok := a.(map[string]any); ok {
		if l, ok := m["label"].(string); ok {
			return l
		}
		if id, ok := m["id"].(string); ok {
			return id
		}
	}
	if s, ok := a.(string); ok {
		return s
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// visitorRef is a room's or inquiry's `v`.
type visitorRef struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
	Status   string `json:"status"`
}

type servedBy struct {
	ID       string    `json:"_id"`
	Username string    `json:"username"`
	TS       time.Time `json:"ts"`
}

type source struct {
	Type string `json:"type"`
}

// room is an omnichannel room (t "l"): one LiveChat chat.
type room struct {
	ID           string         `json:"_id"`
	T            string         `json:"t"`
	Name         string         `json:"name"`
	FName        string         `json:"fname"`
	TS           time.Time      `json:"ts"`
	LM           time.Time      `json:"lm"`
	UsersCount   int            `json:"usersCount"`
	CL           bool           `json:"cl"`
	RO           bool           `json:"ro"`
	V            *visitorRef    `json:"v,omitempty"`
	ServedBy     *servedBy      `json:"servedBy,omitempty"`
	Open         bool           `json:"open,omitempty"`
	ClosedAt     *time.Time     `json:"closedAt,omitempty"`
	DepartmentID string         `json:"departmentId,omitempty"`
	Source       source         `json:"source"`
	LivechatData map[string]any `json:"livechatData,omitempty"`
	LastMessage  *message       `json:"lastMessage,omitempty"`
	UpdatedAt    time.Time      `json:"_updatedAt"`
}

// departmentOf is the Rocket.Chat department of a chat: its first access
// group other than 0 (group 0 holds everyone), as a string.
func departmentOf(c *livechat.Chat) string {
	for _, g := range c.Access.GroupIDs {
		if g != 0 {
			return strconv.Itoa(g)
		}
	}
	return ""
}

// visitorOf is the chat's visitor reference and display name.
func (b *Bridge) visitorOf(ctx context.Context, c *livechat.Chat) (*visitorRef, string) {
	if c.CustomerID == "" {
		return nil, c.ID
	}
	p, _ := b.people.get(ctx, c.CustomerID)
	status := "offline"
	if b.svc.CustomerOnline(c.CustomerID) {
		status = "online"
	}
	name := p.ref.Name
	if name == "" {
		name = p.ref.Username
	}
	return &visitorRef{ID: p.ref.ID, Username: p.ref.Username, Name: p.ref.Name, Status: status}, name
}

// toRoom turns a chat into its room; last, when known, is its last message.
func (b *Bridge) toRoom(ctx context.Context, c *livechat.Chat, last *message) room {
	v, name := b.visitorOf(ctx, c)
	r := room{ID: c.ID, T: roomLivechat, Name: name, FName: name, TS: c.CreatedAt, LM: c.LastEventAt, UsersCount: len(c.Users),
		V: v, Open: c.Active(), DepartmentID: departmentOf(c), Source: source{Type: "widget"}, LastMessage: last, UpdatedAt: c.UpdatedAt}
	if ids := c.AgentIDs(); len(ids) > 0 {
		if p, ok := b.people.get(ctx, ids[0]); ok {
			r.ServedBy = &servedBy{ID: p.ref.ID, Username: p.ref.Username, TS: c.LastThreadCreatedAt}
		}
	}
	if !c.Active() {
		at := c.LastEventAt
		r.ClosedAt = &at
	}
	for ns, vals := range c.Properties {
		for k, v := range vals {
			if r.LivechatData == nil {
				r.LivechatData = map[string]any{}
			}
			r.LivechatData[ns+"."+k] = v
		}
	}
	return r
}

// subscription is one user's subscription to a room.
type subscription struct {
	ID            string      `json:"_id"`
	RID           string      `json:"rid"`
	U             userRef     `json:"u"`
	T             string      `json:"t"`
	Name          string      `json:"name"`
	FName         string      `json:"fname"`
	TS            time.Time   `json:"ts"`
	LS            *time.Time  `json:"ls,omitempty"`
	Open          bool        `json:"open"`
	Alert         bool        `json:"alert"`
	Unread        int         `json:"unread"`
	UserMentions  int         `json:"userMentions"`
	GroupMentions int         `json:"groupMentions"`
	Roles         []string    `json:"roles"`
	V             *visitorRef `json:"v,omitempty"`
	Department    string      `json:"department,omitempty"`
	UpdatedAt     time.Time   `json:"_updatedAt"`
}

// subscriptionID is the stable id of user uid's subscription to room rid.
func subscriptionID(rid, uid string) string { return rid + "." + uid }

// toSubscription is agent a's subscription to chat c: unread counts the
// events of others after the agent's seen marker (chat users only); t is
// the chat's active thread when a push knows it (unread.go).
func (b *Bridge) toSubscription(ctx context.Context, c *livechat.Chat, a *livechat.Agent, t *threadState) subscription {
	p := agentPerson(a)
	v, name := b.visitorOf(ctx, c)
	s := subscription{ID: subscriptionID(c.ID, p.ref.ID), RID: c.ID, U: p.ref, T: roomLivechat, Name: name, FName: name,
		TS: c.CreatedAt, Open: true, Roles: []string{}, V: v, Department: departmentOf(c), UpdatedAt: c.UpdatedAt}
	if u := c.User(a.ID); u != nil {
		seen := u.EventsSeenUpTo
		s.LS = &seen
		s.Unread = b.unread(ctx, c, a.ID, seen, t)
		s.Alert = s.Unread > 0
	}
	return s
}

type email struct {
	Address  string `json:"address"`
	Verified bool   `json:"verified"`
}

// userDoc is the logged-in user's own `users` document (its fields; the id
// is the document id).
type userDoc struct {
	Username         string         `json:"username"`
	Name             string         `json:"name"`
	Emails           []email        `json:"emails,omitempty"`
	Status           string         `json:"status"`
	StatusDefault    string         `json:"statusDefault"`
	StatusConnection string         `json:"statusConnection"`
	StatusLivechat   string         `json:"statusLivechat"`
	StatusText       string         `json:"statusText"`
	Active           bool           `json:"active"`
	Type             string         `json:"type"`
	Roles            []string       `json:"roles"`
	UTCOffset        int            `json:"utcOffset"`
	Language         string         `json:"language"`
	Settings         map[string]any `json:"settings"`
	CreatedAt        time.Time      `json:"createdAt"`
	UpdatedAt        time.Time      `json:"_updatedAt"`
}

// rolesOf maps a LiveChat role onto Rocket.Chat's global roles.
func rolesOf(a *livechat.Agent) []string {
	if a.Kind == livechat.AgentKindBot {
		return []string{"bot", "livechat-agent"}
	}
	switch a.Role {
	case livechat.RoleOwner, livechat.RoleAdministrator:
		return []string{"user", "admin", "livechat-manager", "livechat-agent"}
	case livechat.RoleViceOwner:
		return []string{"user", "livechat-manager", "livechat-agent"}
	}
	return []string{"user", "livechat-agent"}
}

// presenceOf maps an effective routing status onto Rocket.Chat's user status.
func presenceOf(routing string) string {
	switch routing {
	case livechat.RoutingAccepting:
		return "online"
	case livechat.RoutingNotAccepting:
		return "away"
	}
	return "offline"
}

// statusNumber is a status as stream-notify-logged user-status numbers it.
func statusNumber(status string) int {
	switch status {
	case "online":
		return 1
	case "away":
		return 2
	case "busy":
		return 3
	}
	return 0
}

func (b *Bridge) toUserDoc(a *livechat.Agent) userDoc {
	d := userDoc{Username: a.Username, Name: a.Name, Status: presenceOf(b.svc.EffectiveRoutingStatus(a)), StatusDefault: "online",
		StatusLivechat: "not-available", Active: !a.Suspended, Type: "user", Roles: rolesOf(a), Language: "en",
		Settings: map[string]any{"preferences": map[string]any{}}, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	d.StatusConnection = d.Status
	if a.RoutingStatus == livechat.RoutingAccepting {
		d.StatusLivechat = "available"
	}
	if a.Kind == livechat.AgentKindBot {
		d.Type = "bot"
	}
	if a.Email != "" {
		d.Emails = []email{{Address: a.Email, Verified: true}}
	}
	return d
}

// inquiry is a queued omnichannel conversation: one LiveChat thread waiting
// for an agent. Its _id is the thread id, its rid the chat id.
type inquiry struct {
	ID         string      `json:"_id"`
	RID        string      `json:"rid"`
	Name       string      `json:"name"`
	TS         time.Time   `json:"ts"`
	Message    string      `json:"message"`
	Status     string      `json:"status"`
	V          *visitorRef `json:"v,omitempty"`
	T          string      `json:"t"`
	Department string      `json:"department,omitempty"`
	QueuedAt   time.Time   `json:"queuedAt"`
	Source     source      `json:"source"`
	UpdatedAt  time.Time   `json:"_updatedAt"`
}

func (b *Bridge) toInquiry(ctx context.Context, c *livechat.Chat, threadID string, queuedAt time.Time, first string) inquiry {
	v, name := b.visitorOf(ctx, c)
	return inquiry{ID: threadID, RID: c.ID, Name: name, TS: c.LastThreadCreatedAt, Message: first, Status: "queued", V: v, T: roomLivechat,
		Department: departmentOf(c), QueuedAt: queuedAt, Source: source{Type: "widget"}, UpdatedAt: c.UpdatedAt}
}

// queued says whether a chat waits for an agent (an inquiry).
func queued(c *livechat.Chat) bool {
	return c.Active() && c.CustomerID != "" && len(c.AgentIDs()) == 0
}
