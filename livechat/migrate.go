package livechat

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
)

// Bulk import and export, for migrating between Rocket.Chat and LiveChat
// data (bridge and livechat/migrate write the formats; cmd/chatbridge runs
// them). Imported documents keep their ids and times. An id already in the
// store is left as it is, so an import that stopped half way can be run
// again. Imports emit no domain events and route nothing: the data is
// history, and the sessions of a running server do not see it until they
// read. Every operation here acts as the system.

// exportPage is how many documents an export reads per query, and
// importBatch how many events an import writes per insert.
const (
	exportPage  = 500
	importBatch = 500
)

// ImportGroup stores g unless group g.ID exists; it says whether it did.
func (s *Service) ImportGroup(ctx context.Context, g *Group) (bool, error) {
	if g.ID < 0 || strings.TrimSpace(g.Name) == "" {
		return false, Errorf(TypeValidation, "group %d: an id ≥ 0 and a name are required", g.ID)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now()
	}
	if g.LanguageCode == "" {
		g.LanguageCode = "en"
	}
	return insertIfAbsent(ctx, s.store.Groups(), g.ID, g)
}

// ImportAgent stores agent a unless an agent with its id exists; it says
// whether it did. A human agent's id is its e-mail; a missing account id,
// username, role or routing status gets CreateAgent's default. Groups must
// exist. PasswordHash, when set, must be a bcrypt hash of the SHA-256 hex
// digest of the password (what Rocket.Chat stores too).
func (s *Service) ImportAgent(ctx context.Context, a *Agent) (bool, error) {
	if a.Kind == "" {
		a.Kind = AgentKindHuman
	}
	if a.Kind == AgentKindHuman {
		a.Email = strings.ToLower(strings.TrimSpace(a.Email))
		if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email {
			return false, Errorf(TypeValidation, "agent %q: a valid e-mail is required", a.Username)
		}
		a.ID = a.Email
	}
	if a.ID == "" {
		return false, Errorf(TypeValidation, "agent %q: an id is required", a.Username)
	}
	if a.AccountID == "" {
		a.AccountID = NewUUID()
	}
	if a.Username == "" {
		a.Username = strings.ReplaceAll(a.ID, "@", ".")
	}
	if !usernameRe.MatchString(a.Username) {
		return false, Errorf(TypeValidation, "agent %s: username %q may hold letters, digits, '.', '_' and '-' only", a.ID, a.Username)
	}
	if a.Name == "" {
		a.Name = a.Username
	}
	if !slices.Contains([]string{RoleOwner, RoleViceOwner, RoleAdministrator, RoleNormal}, a.Role) {
		a.Role = RoleNormal
	}
	if a.RoutingStatus == "" {
		a.RoutingStatus = RoutingNotAccepting
	}
	if a.MaxChats == 0 {
		a.MaxChats = 6
	}
	if a.Groups == nil {
		a.Groups = []GroupMembership{}
	}
	if err := normalizeMemberships(a.Groups, groupPriorityDefault(a)); err != nil {
		return false, err
	}
	for _, g := range a.Groups {
		if _, err := s.store.Groups().Get(ctx, g.ID); err != nil {
			return false, Errorf(TypeGroupNotFound, "agent %s: group %d not found", a.ID, g.ID)
		}
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	created, err := insertIfAbsent(ctx, s.store.Agents(), a.ID, a)
	if errors.Is(err, ErrConflict) {
		return false, Errorf(TypeValidation, "agent %s: its username %q or account id %s belongs to another agent", a.ID, a.Username, a.AccountID)
	}
	return created, err
}

// ImportCustomer stores customer c unless a customer with its id exists,
// and registers each visitor token (Rocket.Chat's widget token) for it; it
// says whether the customer was stored.
func (s *Service) ImportCustomer(ctx context.Context, c *Customer, visitorTokens ...string) (bool, error) {
	if c.ID == "" {
		return false, Errorf(TypeValidation, "customer: an id is required")
	}
	for i, tok := range visitorTokens {
		visitorTokens[i] = strings.TrimSpace(tok)
		if n := len(visitorTokens[i]); n < minVisitorToken || n > maxVisitorToken {
			return false, Errorf(TypeValidation, "customer %s: visitor token must be %d to %d characters", c.ID, minVisitorToken, maxVisitorToken)
		}
	}
	if c.SessionFields == nil {
		c.SessionFields = []map[string]string{}
	}
	if c.GroupIDs == nil {
		c.GroupIDs = []int{0}
	}
	if c.Followers == nil {
		c.Followers = []string{}
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	created, err := insertIfAbsent(ctx, s.store.Customers(), c.ID, c)
	if err != nil {
		return false, err
	}
	for _, tok := range visitorTokens {
		t := &Token{ID: HashToken(tok), Kind: TokenVisitor, Subject: c.ID, CreatedAt: c.CreatedAt}
		if _, err := insertIfAbsent(ctx, s.store.Tokens(), t.ID, t); err != nil {
			return created, err
		}
	}
	return created, nil
}

// ImportChat stores chat c with its threads and their events unless chat
// c.ID exists; it says whether it did. The customer and the agents among
// c.Users must exist. Threads are ordered by creation and linked; only the
// newest may be active, and then it is the chat's active thread. Counters
// (threads, events, last event times) are computed from what is imported.
// Events are stored first and the chat last, so a chat in the store has
// all of its history.
func (s *Service) ImportChat(ctx context.Context, c *Chat, threads []Thread, events []Event) (bool, error) {
	if !ValidClientID(c.ID) {
		return false, Errorf(TypeValidation, "chat %q: the id must be 1 to 64 letters, digits, '_' or '-'", c.ID)
	}
	if len(threads) == 0 {
		return false, Errorf(TypeValidation, "chat %s: at least one thread is required", c.ID)
	}
	if _, err := s.store.Chats().Get(ctx, c.ID); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if _, err := s.store.Customers().Get(ctx, c.CustomerID); err != nil {
		return false, Errorf(TypeNotFound, "chat %s: customer %q not found", c.ID, c.CustomerID)
	}
	for _, u := range c.Users {
		if u.Type != UserAgent {
			continue
		}
		if _, err := s.store.Agents().Get(ctx, u.ID); err != nil {
			return false, Errorf(TypeNotFound, "chat %s: agent %q not found", c.ID, u.ID)
		}
	}
	if c.User(c.CustomerID) == nil {
		c.Users = append(c.Users, ChatUser{ID: c.CustomerID, Type: UserCustomer, Visibility: VisibilityAll})
	}
	for i := range c.Users {
		if c.Users[i].Visibility == "" {
			c.Users[i].Visibility = VisibilityAll
		}
	}
	if c.Access.GroupIDs == nil {
		c.Access.GroupIDs = []int{0}
	}
	sort.SliceStable(threads, func(i, j int) bool { return threads[i].CreatedAt.Before(threads[j].CreatedAt) })
	byThread := map[string]*Thread{}
	for i := range threads {
		t := &threads[i]
		if t.ID == "" {
			return false, Errorf(TypeValidation, "chat %s: a thread has no id", c.ID)
		}
		if byThread[t.ID] != nil {
			return false, Errorf(TypeValidation, "chat %s: thread %s appears twice", c.ID, t.ID)
		}
		if t.Active && i != len(threads)-1 {
			return false, Errorf(TypeValidation, "chat %s: only the newest thread may be active", c.ID)
		}
		t.ChatID, t.EventCount, t.LastEventAt = c.ID, 0, t.CreatedAt
		t.PreviousThreadID, t.NextThreadID = "", ""
		if i > 0 {
			t.PreviousThreadID = threads[i-1].ID
			threads[i-1].NextThreadID = t.ID
		}
		if !t.Active && t.ClosedAt == nil {
			closed := t.CreatedAt
			t.ClosedAt = &closed
		}
		if t.Properties == nil {
			t.Properties = Properties{}
		}
		if t.Access.GroupIDs == nil {
			t.Access = c.Access
		}
		if t.UserIDs == nil {
			t.UserIDs = []string{}
		}
		byThread[t.ID] = t
	}
	for i := range events {
		e := &events[i]
		s.markUploadsUsed(ctx, e)
		t := byThread[e.ThreadID]
		if t == nil {
			return false, Errorf(TypeValidation, "chat %s: event %s names thread %q, not one of the chat's", c.ID, e.ID, e.ThreadID)
		}
		if e.ID == "" || e.Type == "" {
			return false, Errorf(TypeValidation, "chat %s: an event needs an id and a type", c.ID)
		}
		if e.Visibility == "" {
			e.Visibility = VisibilityAll
		}
		e.ChatID = c.ID
		t.EventCount++
		if e.CreatedAt.After(t.LastEventAt) {
			t.LastEventAt = e.CreatedAt
		}
		if e.AuthorID != "" && !slices.Contains(t.UserIDs, e.AuthorID) && c.User(e.AuthorID) != nil {
			t.UserIDs = append(t.UserIDs, e.AuthorID)
		}
	}
	// Ids already stored come from an import that stopped before storing
	// the chat: InsertMany still stores the others.
	for start := 0; start < len(events); start += importBatch {
		batch := events[start:min(start+importBatch, len(events))]
		err := s.store.Events().InsertMany(ctx, batch)
		if errors.Is(err, ErrConflict) {
			err = ownedByChat(ctx, s.store.Events(), c.ID, batch, func(e *Event) (string, string) { return e.ID, e.ChatID })
		}
		if err != nil {
			return false, fmt.Errorf("chat %s: events: %w", c.ID, err)
		}
	}
	err := s.store.Threads().InsertMany(ctx, threads)
	if errors.Is(err, ErrConflict) {
		err = ownedByChat(ctx, s.store.Threads(), c.ID, threads, func(t *Thread) (string, string) { return t.ID, t.ChatID })
	}
	if err != nil {
		return false, fmt.Errorf("chat %s: threads: %w", c.ID, err)
	}
	last := &threads[len(threads)-1]
	c.ActiveThreadID = ""
	if last.Active {
		c.ActiveThreadID = last.ID
	}
	c.LastThreadID, c.LastThreadCreatedAt, c.ThreadCount = last.ID, last.CreatedAt, len(threads)
	c.LastEventAt = threads[0].LastEventAt
	for i := range threads {
		if threads[i].LastEventAt.After(c.LastEventAt) {
			c.LastEventAt = threads[i].LastEventAt
		}
	}
	if c.Properties == nil {
		c.Properties = Properties{}
	}
	if c.Followers == nil {
		c.Followers = []string{}
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = threads[0].CreatedAt
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.LastEventAt
	}
	return insertIfAbsent(ctx, s.store.Chats(), c.ID, c)
}

// ownedByChat checks, after an insert that conflicted, that every document
// of docs is stored and belongs to chat chatID: an earlier import of the
// same chat, not another chat's document with the same id.
func ownedByChat[T any](ctx context.Context, coll Collection[T, string], chatID string, docs []T, key func(*T) (id, chat string)) error {
	for i := range docs {
		id, _ := key(&docs[i])
		got, err := coll.Get(ctx, id)
		if err != nil {
			return err
		}
		if _, owner := key(got); owner != chatID {
			return Errorf(TypeValidation, "id %s belongs to chat %s", id, owner)
		}
	}
	return nil
}

// insertIfAbsent inserts doc unless a document with id exists.
func insertIfAbsent[T any, K comparable](ctx context.Context, coll Collection[T, K], id K, doc *T) (bool, error) {
	if _, err := coll.Get(ctx, id); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err := coll.Insert(ctx, doc); err != nil {
		if _, gerr := coll.Get(ctx, id); gerr == nil {
			return false, nil // inserted meanwhile by someone else
		}
		return false, err
	}
	return true, nil
}

// ExportCounts says how many of each kind an export will write.
type ExportCounts struct {
	Groups, Agents, Customers, Chats int64
}

// CountForExport counts the groups, agents, customers and chats in the store.
func (s *Service) CountForExport(ctx context.Context) (ExportCounts, error) {
	var n ExportCounts
	var err error
	if n.Groups, err = s.store.Groups().Count(ctx, Query{}); err != nil {
		return n, err
	}
	if n.Agents, err = s.store.Agents().Count(ctx, Query{}); err != nil {
		return n, err
	}
	if n.Customers, err = s.store.Customers().Count(ctx, Query{}); err != nil {
		return n, err
	}
	n.Chats, err = s.store.Chats().Count(ctx, Query{})
	return n, err
}

// EachGroup calls fn for every group, by id.
func (s *Service) EachGroup(ctx context.Context, fn func(*Group) error) error {
	gs, err := s.store.Groups().Find(ctx, Query{Sort: "_id"})
	if err != nil {
		return err
	}
	for i := range gs {
		if err := fn(&gs[i]); err != nil {
			return err
		}
	}
	return nil
}

// EachAgent calls fn for every agent and bot, by id.
func (s *Service) EachAgent(ctx context.Context, fn func(*Agent) error) error {
	return eachPage(ctx, s.store.Agents(), func(a *Agent) string { return a.ID }, fn)
}

// EachCustomer calls fn for every customer, by id.
func (s *Service) EachCustomer(ctx context.Context, fn func(*Customer) error) error {
	return eachPage(ctx, s.store.Customers(), func(c *Customer) string { return c.ID }, fn)
}

// EachChat calls fn for every chat, by id, with its threads (oldest first)
// and their events (oldest first).
func (s *Service) EachChat(ctx context.Context, fn func(c *Chat, threads []Thread, events []Event) error) error {
	after := ""
	for {
		q := Query{Sort: "_id", Limit: chatPage}
		if after != "" {
			q.Where = []Cond{{Field: "_id", Op: OpGt, Value: after}}
		}
		page, err := s.store.Chats().Find(ctx, q)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		ids := make([]string, len(page))
		for i := range page {
			ids[i] = page[i].ID
		}
		in := []Cond{{Field: "chat_id", Op: OpIn, Value: ids}}
		threads, err := s.store.Threads().Find(ctx, Query{Where: in, Sort: "created_at"})
		if err != nil {
			return err
		}
		events, err := s.store.Events().Find(ctx, Query{Where: in, Sort: "created_at"})
		if err != nil {
			return err
		}
		ts, es := map[string][]Thread{}, map[string][]Event{}
		for _, t := range threads {
			ts[t.ChatID] = append(ts[t.ChatID], t)
		}
		for _, e := range events {
			es[e.ChatID] = append(es[e.ChatID], e)
		}
		for i := range page {
			if err := fn(&page[i], ts[page[i].ID], es[page[i].ID]); err != nil {
				return err
			}
		}
		if len(page) < chatPage {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// chatPage is how many chats EachChat reads threads and events for at once.
const chatPage = 100

// eachPage walks a collection by _id, exportPage documents per query.
func eachPage[T any](ctx context.Context, coll Collection[T, string], id func(*T) string, fn func(*T) error) error {
	after := ""
	for {
		q := Query{Sort: "_id", Limit: exportPage}
		if after != "" {
			q.Where = []Cond{{Field: "_id", Op: OpGt, Value: after}}
		}
		page, err := coll.Find(ctx, q)
		if err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = id(&page[len(page)-1])
	}
}

// MigrationReport is what an import or an export did: per kind of record
// ("groups", "agents", "customers", "chats", "threads", "events",
// "messages", …) how many were written and how many skipped because they
// were already there, and what had no counterpart in the other format.
type MigrationReport struct {
	Written map[string]int `json:"written"`
	Skipped map[string]int `json:"skipped"`
	// Dropped names each kind of thing left out, with why and how many.
	Dropped map[string]int `json:"dropped,omitempty"`
}

// NewMigrationReport is an empty report.
func NewMigrationReport() *MigrationReport {
	return &MigrationReport{Written: map[string]int{}, Skipped: map[string]int{}, Dropped: map[string]int{}}
}

// Count records one record of kind, written or skipped.
func (r *MigrationReport) Count(kind string, written bool) {
	if written {
		r.Written[kind]++
	} else {
		r.Skipped[kind]++
	}
}

// Drop records one thing left out, described by why (e.g. "rooms of type
// c (channels): no LiveChat counterpart").
func (r *MigrationReport) Drop(why string) { r.Dropped[why]++ }

// Progress hears each record an import or export has handled, by kind.
type Progress func(kind string)
