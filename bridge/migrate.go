package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// Rocket.Chat ⇄ LiveChat migration, the Rocket.Chat side: a directory of
// Rocket.Chat collections as mongoexport writes them (migrate_json.go), one
// file per collection. docs/migration.md is the user's guide and the table.
const (
	rcUsersFile       = "users.json"
	rcDepartmentsFile = "rocketchat_livechat_department.json"
	rcDeptAgentsFile  = "rocketchat_livechat_department_agents.json"
	rcVisitorsFile    = "rocketchat_livechat_visitor.json"
	rcRoomsFile       = "rocketchat_room.json"
	rcMessagesFile    = "rocketchat_message.json"
	rcSubsFile        = "rocketchat_subscription.json"
)

// RocketChatFiles are the collections an export writes and an import reads.
var RocketChatFiles = []string{rcUsersFile, rcDepartmentsFile, rcDeptAgentsFile, rcVisitorsFile, rcRoomsFile, rcMessagesFile, rcSubsFile}

// ExportRocketChat writes everything in the store as Rocket.Chat
// collections into dir (created; none of the files may exist): agents as
// users (with their password hashes, which Rocket.Chat checks the same
// way), groups as departments, customers as livechat visitors (with a new
// random token each: chatbridge keeps only hashes of visitor tokens),
// chats as omnichannel rooms, events and thread starts as messages, and
// each active chat's agents' subscriptions.
func (b *Bridge) ExportRocketChat(ctx context.Context, dir string, step livechat.Progress) (*livechat.MigrationReport, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	out := map[string]*docWriter{}
	ok := false
	defer func() {
		for _, w := range out {
			_ = w.close()
		}
		if !ok { // a failed export leaves nothing to refuse the next one
			for name, w := range out {
				_ = os.Remove(w.f.Name())
				delete(out, name)
			}
		}
	}()
	for _, name := range RocketChatFiles {
		w, err := createDocFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		out[name] = w
	}
	rep := livechat.NewMigrationReport()
	svc := b.svc
	done := func(kind string) {
		rep.Count(kind, true)
		if step != nil {
			step(kind)
		}
	}
	err := svc.EachGroup(ctx, func(g *livechat.Group) error {
		if g.ID == 0 {
			rep.Drop("group 0 (everyone): Rocket.Chat has no such department")
			return nil
		}
		done("groups")
		return out[rcDepartmentsFile].write(map[string]any{"_id": strconv.Itoa(g.ID), "name": g.Name, "enabled": true,
			"showOnRegistration": true, "showOnOfflineForm": true, "type": "d", "_updatedAt": g.CreatedAt})
	})
	if err != nil {
		return rep, err
	}
	err = svc.EachAgent(ctx, func(a *livechat.Agent) error {
		doc, err := toDoc(b.UserDoc(a))
		if err != nil {
			return err
		}
		delete(doc, "status")
		delete(doc, "statusConnection")
		doc["status"] = "offline"
		if a.PasswordHash != "" {
			doc["services"] = map[string]any{"password": map[string]any{"bcrypt": a.PasswordHash}}
		}
		if err := out[rcUsersFile].write(doc); err != nil {
			return err
		}
		for _, g := range a.Groups {
			if g.ID == 0 {
				continue
			}
			dept := strconv.Itoa(g.ID)
			if err := out[rcDeptAgentsFile].write(map[string]any{"_id": a.AccountID + "." + dept, "agentId": a.AccountID,
				"departmentId": dept, "username": a.Username, "count": 0, "order": 0, "_updatedAt": a.UpdatedAt}); err != nil {
				return err
			}
		}
		done("agents")
		return nil
	})
	if err != nil {
		return rep, err
	}
	tokens := map[string]string{} // customer id → the token written for it
	err = svc.EachCustomer(ctx, func(c *livechat.Customer) error {
		tok := livechat.NewVisitorToken()
		tokens[c.ID] = tok
		doc, err := toDoc(toVisitorDoc(c, tok))
		if err != nil {
			return err
		}
		doc["ts"], doc["_updatedAt"] = c.CreatedAt, c.UpdatedAt
		done("customers")
		return out[rcVisitorsFile].write(doc)
	})
	if err != nil {
		return rep, err
	}
	err = svc.EachChat(ctx, func(c *livechat.Chat, threads []livechat.Thread, events []livechat.Event) error {
		return b.exportChat(ctx, out, rep, tokens[c.CustomerID], c, threads, events, done)
	})
	if err != nil {
		return rep, err
	}
	for _, name := range RocketChatFiles {
		if err := out[name].close(); err != nil {
			return rep, err
		}
	}
	ok = true
	return rep, nil
}

// exportChat writes one chat as a room, its messages and, while it is
// active, its agents' subscriptions.
func (b *Bridge) exportChat(ctx context.Context, out map[string]*docWriter, rep *livechat.MigrationReport, token string,
	c *livechat.Chat, threads []livechat.Thread, events []livechat.Event, done func(string)) error {
	msgs := 0
	var last *message
	for i := range threads {
		m := b.threadStarted(ctx, c, &threads[i])
		if err := out[rcMessagesFile].write(m); err != nil {
			return err
		}
		msgs++
	}
	for i := range events {
		e := &events[i]
		if livechat.EventDeleted(e) {
			rep.Drop("deleted messages (Rocket.Chat keeps no trace without Message_ShowDeletedStatus)")
			continue
		}
		m := b.toMessage(ctx, e)
		if err := out[rcMessagesFile].write(m); err != nil {
			return err
		}
		msgs++
		last = &m
		done("messages")
	}
	doc, err := toDoc(b.toRoom(ctx, c, last))
	if err != nil {
		return err
	}
	if v, ok := doc["v"].(map[string]any); ok {
		v["token"] = token
	}
	doc["msgs"] = msgs
	var tags []string
	for _, t := range threads {
		for _, tag := range t.Tags {
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
	}
	if len(tags) > 0 {
		doc["tags"] = tags
	}
	if !c.Active() && len(threads) > 0 {
		if t := threads[len(threads)-1]; t.ClosedAt != nil {
			doc["closedAt"] = *t.ClosedAt
		}
	}
	if err := out[rcRoomsFile].write(doc); err != nil {
		return err
	}
	if c.Active() {
		for _, id := range c.AgentIDs() {
			a, err := b.svc.Store().Agents().Get(ctx, id)
			if err != nil {
				continue
			}
			if err := out[rcSubsFile].write(b.toSubscription(ctx, c, a, nil)); err != nil {
				return err
			}
		}
	}
	done("chats")
	return nil
}

// The Rocket.Chat documents an import reads (the fields it uses).
type (
	rcUserRef struct {
		ID       string `json:"_id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	}
	rcUserDoc struct {
		ID       string `json:"_id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		Emails   []struct {
			Address string `json:"address"`
		} `json:"emails"`
		Type           string    `json:"type"`
		Roles          []string  `json:"roles"`
		Active         *bool     `json:"active"`
		StatusLivechat string    `json:"statusLivechat"`
		CreatedAt      time.Time `json:"createdAt"`
		UpdatedAt      time.Time `json:"_updatedAt"`
		Services       struct {
			Password struct {
				Bcrypt string `json:"bcrypt"`
			} `json:"password"`
		} `json:"services"`
	}
	rcDepartmentDoc struct {
		ID        string    `json:"_id"`
		Name      string    `json:"name"`
		UpdatedAt time.Time `json:"_updatedAt"`
	}
	rcDeptAgentDoc struct {
		AgentID      string `json:"agentId"`
		DepartmentID string `json:"departmentId"`
	}
	rcVisitorDoc struct {
		ID            string `json:"_id"`
		Token         string `json:"token"`
		Name          string `json:"name"`
		VisitorEmails []struct {
			Address string `json:"address"`
		} `json:"visitorEmails"`
		Phone []struct {
			PhoneNumber string `json:"phoneNumber"`
		} `json:"phone"`
		Department   string         `json:"department"`
		TS           time.Time      `json:"ts"`
		UpdatedAt    time.Time      `json:"_updatedAt"`
		LivechatData map[string]any `json:"livechatData"`
	}
	rcRoomDoc struct {
		ID string `json:"_id"`
		T  string `json:"t"`
		V  struct {
			ID       string `json:"_id"`
			Username string `json:"username"`
			Token    string `json:"token"`
			Name     string `json:"name"`
		} `json:"v"`
		FName        string         `json:"fname"`
		ServedBy     *rcUserRef     `json:"servedBy"`
		Open         bool           `json:"open"`
		DepartmentID string         `json:"departmentId"`
		TS           time.Time      `json:"ts"`
		LM           time.Time      `json:"lm"`
		ClosedAt     *time.Time     `json:"closedAt"`
		Tags         []string       `json:"tags"`
		LivechatData map[string]any `json:"livechatData"`
		UpdatedAt    time.Time      `json:"_updatedAt"`
	}
	rcMessageDoc struct {
		ID    string    `json:"_id"`
		RID   string    `json:"rid"`
		Msg   string    `json:"msg"`
		TS    time.Time `json:"ts"`
		U     rcUserRef `json:"u"`
		T     string    `json:"t"`
		Token string    `json:"token"`
		File  *struct {
			ID   string `json:"_id"`
			Name string `json:"name"`
			Type string `json:"type"`
			Size int64  `json:"size"`
		} `json:"file"`
		Attachments []struct {
			TitleLink string `json:"title_link"`
			ImageURL  string `json:"image_url"`
			Title     string `json:"title"`
			ImageSize int64  `json:"image_size"`
		} `json:"attachments"`
		CustomFields map[string]any `json:"customFields"`
		Reactions    map[string]struct {
			Usernames []string `json:"usernames"`
		} `json:"reactions"`
		EditedAt *time.Time `json:"editedAt"`
		EditedBy *rcUserRef `json:"editedBy"`
	}
)

// rcImport is the state of one Rocket.Chat import.
type rcImport struct {
	b     *Bridge
	dir   string
	rep   *livechat.MigrationReport
	step  livechat.Progress
	users map[string]*rcUserDoc // Rocket.Chat user id → document
	depts map[string]int        // department id → group id
	// memberships are the departments of each user id.
	memberships map[string][]string
	// agents maps Rocket.Chat user ids to imported agent ids.
	agents map[string]string
	// visitors are the visitor ids imported (or found) as customers.
	visitors map[string]bool
}

// ImportRocketChat reads the Rocket.Chat collections in dir into the
// store: departments as groups, users with an omnichannel role (and every
// user who served or wrote in an omnichannel room) as agents, livechat
// visitors as customers with their tokens, omnichannel rooms with their
// messages as chats. Ids are kept (a user's _id becomes the agent's
// account id, so Rocket.Chat clients see the same user ids); what exists
// is skipped, so the import can be run again. What has no LiveChat
// counterpart is counted in the report's Dropped.
func (b *Bridge) ImportRocketChat(ctx context.Context, dir string, step livechat.Progress) (*livechat.MigrationReport, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("import: %s is not a directory of Rocket.Chat collections", dir)
	}
	im := &rcImport{b: b, dir: dir, rep: livechat.NewMigrationReport(), step: step, users: map[string]*rcUserDoc{},
		depts: map[string]int{}, memberships: map[string][]string{}, agents: map[string]string{}, visitors: map[string]bool{}}
	for _, phase := range []func(context.Context) error{im.departments, im.readUsers, im.importUsers, im.importVisitors, im.importRooms} {
		if err := phase(ctx); err != nil {
			return im.rep, err
		}
	}
	return im.rep, nil
}

func (im *rcImport) count(kind string, written bool) {
	im.rep.Count(kind, written)
	if im.step != nil {
		im.step(kind)
	}
}

// each reads every document of a collection file.
func each[T any](im *rcImport, name string, fn func(*T) error) error {
	r, err := openDocFile(im.dir, name)
	if err != nil {
		return err
	}
	defer r.close()
	for {
		var doc T
		if _, err := r.next(&doc); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := fn(&doc); err != nil {
			return fmt.Errorf("%s line %d: %w", name, r.line, err)
		}
	}
}

// departments imports departments as groups: a numeric id keeps its
// number; others join the group of the same name if there is one (an
// import run again), else get the next free group id (in file order).
func (im *rcImport) departments(ctx context.Context) error {
	next := 1
	named := map[string]int{}
	err := im.b.svc.EachGroup(ctx, func(g *livechat.Group) error {
		next = max(next, g.ID+1)
		if g.ID != 0 {
			named[g.Name] = g.ID
		}
		return nil
	})
	if err != nil {
		return err
	}
	taken := map[int]string{}
	for name, id := range named {
		taken[id] = name
	}
	var docs []rcDepartmentDoc
	err = each(im, rcDepartmentsFile, func(d *rcDepartmentDoc) error {
		n, err := strconv.Atoi(d.ID)
		numeric := err == nil && n > 0 && (taken[n] == "" || taken[n] == d.Name)
		switch id, ok := named[d.Name]; {
		case numeric:
			im.depts[d.ID] = n
			next = max(next, n+1)
		case ok:
			im.depts[d.ID] = id
		}
		docs = append(docs, *d)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range docs {
		d := &docs[i]
		id, ok := im.depts[d.ID]
		if !ok {
			id, next = next, next+1
			im.depts[d.ID] = id
		}
		ok, err := im.b.svc.ImportGroup(ctx, &livechat.Group{ID: id, Name: d.Name, CreatedAt: d.UpdatedAt})
		if err != nil {
			return fmt.Errorf("%s: department %s: %w", rcDepartmentsFile, d.ID, err)
		}
		im.count("groups", ok)
	}
	return each(im, rcDeptAgentsFile, func(d *rcDeptAgentDoc) error {
		if _, ok := im.depts[d.DepartmentID]; ok && d.AgentID != "" {
			im.memberships[d.AgentID] = append(im.memberships[d.AgentID], d.DepartmentID)
		}
		return nil
	})
}

func (im *rcImport) readUsers(context.Context) error {
	return each(im, rcUsersFile, func(u *rcUserDoc) error {
		if u.ID == "" {
			return errors.New("a user without _id")
		}
		im.users[u.ID] = u
		return nil
	})
}

// omnichannelRoles are the global roles that make a user an agent.
var omnichannelRoles = []string{"livechat-agent", "livechat-manager", "livechat-monitor", "admin"}

// importUsers imports the users with an omnichannel role, and bots.
func (im *rcImport) importUsers(ctx context.Context) error {
	ids := make([]string, 0, len(im.users))
	for id := range im.users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		u := im.users[id]
		agent := u.Type == "bot" || slices.ContainsFunc(u.Roles, func(r string) bool { return slices.Contains(omnichannelRoles, r) })
		if !agent {
			continue // imported later if it served or wrote in an omnichannel room
		}
		if _, err := im.agent(ctx, id); err != nil {
			return fmt.Errorf("%s: user %s: %w", rcUsersFile, id, err)
		}
	}
	return nil
}

// agent imports Rocket.Chat user uid as an agent (once) and returns its
// agent id; "" when the user is unknown or has no usable e-mail.
func (im *rcImport) agent(ctx context.Context, uid string) (string, error) {
	if id, ok := im.agents[uid]; ok {
		return id, nil
	}
	im.agents[uid] = ""
	u := im.users[uid]
	if u == nil || uid == "rocket.cat" {
		return "", nil
	}
	a := &livechat.Agent{AccountID: u.ID, Username: u.Username, Name: u.Name, PasswordHash: u.Services.Password.Bcrypt,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Role: roleOf(u.Roles)}
	if u.Active != nil && !*u.Active {
		a.Suspended = true
	}
	if u.StatusLivechat == "available" {
		a.RoutingStatus = livechat.RoutingAccepting
	}
	if u.Type == "bot" {
		sum := sha256.Sum256([]byte(u.ID))
		a.ID, a.Kind, a.Role = hex.EncodeToString(sum[:16]), livechat.AgentKindBot, livechat.RoleNormal
	} else {
		for _, e := range u.Emails {
			if e.Address != "" {
				a.Email = e.Address
				break
			}
		}
		if a.Email == "" {
			im.rep.Drop("users without an e-mail address (a LiveChat agent is its e-mail)")
			return "", nil
		}
	}
	for _, d := range im.memberships[u.ID] {
		a.Groups = append(a.Groups, livechat.GroupMembership{ID: im.depts[d], Priority: "normal"})
	}
	ok, err := im.b.svc.ImportAgent(ctx, a)
	if err != nil {
		return "", err
	}
	im.agents[uid] = a.ID
	im.count("agents", ok)
	return a.ID, nil
}

// roleOf maps Rocket.Chat's global roles onto a LiveChat role.
func roleOf(roles []string) string {
	switch {
	case slices.Contains(roles, "admin"):
		return livechat.RoleAdministrator
	case slices.Contains(roles, "livechat-manager"):
		return livechat.RoleViceOwner
	}
	return livechat.RoleNormal
}

func (im *rcImport) importVisitors(ctx context.Context) error {
	return each(im, rcVisitorsFile, func(v *rcVisitorDoc) error {
		c := &livechat.Customer{ID: v.ID, Name: v.Name, CreatedAt: v.TS, UpdatedAt: v.UpdatedAt}
		if len(v.VisitorEmails) > 0 {
			c.Email = v.VisitorEmails[0].Address
		}
		if g, ok := im.depts[v.Department]; ok {
			c.GroupIDs = []int{0, g}
		}
		keys := make([]string, 0, len(v.LivechatData))
		for k := range v.LivechatData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.SessionFields = append(c.SessionFields, map[string]string{k: fmt.Sprint(v.LivechatData[k])})
		}
		if len(v.Phone) > 0 && v.Phone[0].PhoneNumber != "" {
			c.SessionFields = append(c.SessionFields, map[string]string{"phone": v.Phone[0].PhoneNumber})
		}
		var tokens []string
		if v.Token != "" {
			tokens = append(tokens, v.Token)
		}
		ok, err := im.b.svc.ImportCustomer(ctx, c, tokens...)
		if err != nil {
			return err
		}
		im.visitors[v.ID] = true
		im.count("customers", ok)
		return nil
	})
}

// importRooms imports the omnichannel rooms with their messages. The
// messages file is indexed first (room id → line offsets), so a room's
// messages are read when the room is imported, without holding them all.
func (im *rcImport) importRooms(ctx context.Context) error {
	msgs, err := openDocFile(im.dir, rcMessagesFile)
	if err != nil {
		return err
	}
	defer msgs.close()
	index := map[string][]int64{}
	for {
		var m struct {
			RID string `json:"rid"`
		}
		off, err := msgs.next(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		index[m.RID] = append(index[m.RID], off)
	}
	err = each(im, rcRoomsFile, func(r *rcRoomDoc) error {
		if r.T != roomLivechat {
			delete(index, r.ID)
			im.rep.Drop(fmt.Sprintf("rooms of type %q and their messages: LiveChat has omnichannel conversations only", r.T))
			return nil
		}
		var docs []rcMessageDoc
		for _, off := range index[r.ID] {
			var m rcMessageDoc
			if err := msgs.readAt(off, &m); err != nil {
				return err
			}
			docs = append(docs, m)
		}
		delete(index, r.ID)
		return im.room(ctx, r, docs)
	})
	if err != nil {
		return err
	}
	for range index {
		im.rep.Drop("messages of rooms not in " + rcRoomsFile)
	}
	return nil
}

// room imports one omnichannel room as a chat. Its threads are split at
// livechat-started messages (chatbridge's own exports); a room without them
// is one thread, with the id "<room id>-thread".
func (im *rcImport) room(ctx context.Context, r *rcRoomDoc, docs []rcMessageDoc) error {
	svc := im.b.svc
	if r.V.ID == "" {
		return errors.New("an omnichannel room without a visitor (v._id)")
	}
	if !im.visitors[r.V.ID] {
		if _, err := svc.Store().Customers().Get(ctx, r.V.ID); err != nil {
			c := &livechat.Customer{ID: r.V.ID, Name: r.V.Name, CreatedAt: r.TS}
			var tokens []string
			if r.V.Token != "" {
				tokens = append(tokens, r.V.Token)
			}
			ok, err := svc.ImportCustomer(ctx, c, tokens...)
			if err != nil {
				return err
			}
			im.count("customers", ok)
		}
		im.visitors[r.V.ID] = true
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].TS.Before(docs[j].TS) })
	chat := &livechat.Chat{ID: r.ID, CustomerID: r.V.ID, CreatedAt: r.TS, UpdatedAt: r.UpdatedAt, Access: livechat.Access{GroupIDs: []int{0}}}
	if g, ok := im.depts[r.DepartmentID]; ok {
		chat.Access.GroupIDs = []int{0, g}
	}
	for k, v := range r.LivechatData {
		ns, name, ok := strings.Cut(k, ".")
		if !ok {
			ns, name = livechat.RCNamespace, k
		}
		if chat.Properties == nil {
			chat.Properties = livechat.Properties{}
		}
		if chat.Properties[ns] == nil {
			chat.Properties[ns] = map[string]any{}
		}
		chat.Properties[ns][name] = v
	}
	addAgent := func(uid string) (string, error) {
		id, err := im.agent(ctx, uid)
		if err != nil || id == "" {
			return id, err
		}
		if chat.User(id) == nil {
			// Only the serving agent is in an open chat now; others wrote earlier.
			present := r.Open && r.ServedBy != nil && uid == r.ServedBy.ID
			chat.Users = append(chat.Users, livechat.ChatUser{ID: id, Type: livechat.UserAgent, Present: present, Visibility: livechat.VisibilityAll})
		}
		return id, nil
	}
	if r.ServedBy != nil && r.ServedBy.ID != "" {
		if _, err := addAgent(r.ServedBy.ID); err != nil {
			return err
		}
	}
	var threads []livechat.Thread
	var events []livechat.Event
	newThread := func(id string, at time.Time) {
		threads = append(threads, livechat.Thread{ID: id, CreatedAt: at, Tags: r.Tags})
	}
	for i := range docs {
		m := &docs[i]
		if m.T == msgLivechatOpen {
			newThread(m.ID, m.TS)
			continue
		}
		if len(threads) == 0 {
			at := r.TS
			if m.TS.Before(at) {
				at = m.TS
			}
			newThread(r.ID+"-thread", at)
		}
		e, err := im.event(ctx, r, m, addAgent)
		if err != nil {
			return fmt.Errorf("room %s: message %s: %w", r.ID, m.ID, err)
		}
		if e == nil {
			continue
		}
		e.ThreadID = threads[len(threads)-1].ID
		events = append(events, *e)
		if m.T == msgLivechatEnd {
			closed := m.TS
			threads[len(threads)-1].ClosedAt = &closed
		}
	}
	if len(threads) == 0 {
		newThread(r.ID+"-thread", r.TS)
	}
	last := &threads[len(threads)-1]
	last.Active = r.Open
	if !r.Open && last.ClosedAt == nil {
		closed := r.LM
		if r.ClosedAt != nil {
			closed = *r.ClosedAt
		}
		if closed.Before(last.CreatedAt) {
			closed = last.CreatedAt
		}
		last.ClosedAt = &closed
	}
	ok, err := svc.ImportChat(ctx, chat, threads, events)
	if err != nil {
		return err
	}
	im.count("chats", ok)
	if ok {
		im.rep.Written["threads"] += len(threads)
		im.rep.Written["events"] += len(events)
	}
	return nil
}

// event maps one message onto an event (nil: nothing to import).
func (im *rcImport) event(ctx context.Context, r *rcRoomDoc, m *rcMessageDoc, addAgent func(string) (string, error)) (*livechat.Event, error) {
	if m.ID == "" {
		return nil, errors.New("a message without _id")
	}
	e := &livechat.Event{ID: m.ID, CreatedAt: m.TS, Type: livechat.EventMessage, Text: m.Msg, Visibility: livechat.VisibilityAll}
	switch {
	case m.T == msgLivechatEnd:
		e.Type, e.SystemMessageType = livechat.EventSystemMessage, "manual_archived_agent"
		if e.Text == "" {
			e.Text = "Chat closed"
		}
		return e, nil
	case m.T == "rm":
		im.rep.Drop("deleted messages (t: rm)")
		return nil, nil
	case m.T != "" || m.U.ID == "rocket.cat":
		e.Type, e.SystemMessageType = livechat.EventSystemMessage, "rocketchat"
		if m.T != "" {
			e.SystemMessageType = "rocketchat." + m.T
		}
		if e.Text == "" {
			e.Text = m.T
		}
		if e.Text == "" {
			im.rep.Drop("empty system messages")
			return nil, nil
		}
		return e, nil
	}
	switch {
	case m.U.ID == r.V.ID || m.Token != "":
		e.AuthorID = r.V.ID
	default:
		id, err := addAgent(m.U.ID)
		if err != nil {
			return nil, err
		}
		if id == "" {
			im.rep.Drop("messages by users who cannot be agents (no e-mail, or not in users.json)")
			return nil, nil
		}
		e.AuthorID = id
	}
	if v, _ := m.CustomFields["visibility"].(string); v == livechat.VisibilityAgents {
		e.Visibility = livechat.VisibilityAgents
	}
	if m.File != nil || len(m.Attachments) > 0 && m.Attachments[0].TitleLink != "" && m.Msg == "" {
		e.Type = livechat.EventFile
		if m.File != nil {
			e.Name, e.ContentType, e.Size = m.File.Name, m.File.Type, m.File.Size
		}
		if len(m.Attachments) > 0 {
			e.URL = m.Attachments[0].TitleLink
			if e.Name == "" {
				e.Name = m.Attachments[0].Title
			}
		}
		if e.URL == "" {
			im.rep.Drop("file messages without a link")
			return nil, nil
		}
		if e.Name == "" {
			e.Name = filepath.Base(e.URL)
		}
		e.Text = ""
	} else if len(m.Attachments) > 0 {
		im.rep.Drop("message attachments other than files (quotes, cards): the text is kept")
	}
	if e.Type == livechat.EventMessage && strings.TrimSpace(e.Text) == "" {
		im.rep.Drop("empty messages")
		return nil, nil
	}
	rc := map[string]any{}
	if m.EditedAt != nil {
		rc[livechat.RCEditedAt] = m.EditedAt.UTC().Format(time.RFC3339Nano)
		if m.EditedBy != nil {
			if id, _ := im.agents[m.EditedBy.ID]; id != "" {
				rc[livechat.RCEditedBy] = id
			} else {
				rc[livechat.RCEditedBy] = e.AuthorID
			}
		}
	}
	if len(m.Reactions) > 0 {
		r := map[string][]string{}
		for emoji, who := range m.Reactions {
			r[emoji] = who.Usernames
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		rc[livechat.RCReactions] = string(raw)
	}
	if len(rc) > 0 {
		e.Properties = livechat.Properties{livechat.RCNamespace: rc}
	}
	return e, nil
}
