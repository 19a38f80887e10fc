package migrate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// MaxLine is the longest line an import reads (a chats.jsonl chat with all
// of its threads and events.
const MaxLine = 64 << 20

// botIDRe matches a LiveChat bot id.
var botIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ImportLiveChat reads a LiveChat migration directory (doc.go) into svc's
// store: groups, agents, customers, then chats, streamed line by line. Ids
// and times are kept and records already in the store are skipped, so it
// can be run again. A missing file means none of its kind, but dir must hold
// at least one. The first bad record stops it with an error naming the
// file, the item or line, and why; step hears every record read.
func ImportLiveChat(ctx context.Context, svc *livechat.Service, dir string, step livechat.Progress) (*livechat.MigrationReport, error) {
	if step == nil {
		step = func(string) {}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("import: %s is not a directory", dir)
	}
	found := false
	for _, name := range Files {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("import: %s holds none of %s", dir, strings.Join(Files, ", "))
	}
	im := &importer{svc: svc, rep: livechat.NewMigrationReport(), step: step,
		prios: map[string][]livechat.GroupMembership{}, agents: map[string]bool{}, known: map[string]bool{}}
	if err := readArray(ctx, filepath.Join(dir, GroupsFile), GroupsFile, im.group); err != nil {
		return im.rep, err
	}
	if err := readArray(ctx, filepath.Join(dir, AgentsFile), AgentsFile, im.agent); err != nil {
		return im.rep, err
	}
	for id, ms := range im.prios {
		if !im.agents[id] {
			for range ms {
				im.rep.Drop("group agent_priorities naming agents missing from " + AgentsFile)
			}
		}
	}
	if err := readArray(ctx, filepath.Join(dir, CustomersFile), CustomersFile, im.customer); err != nil {
		return im.rep, err
	}
	if err := readLines(ctx, filepath.Join(dir, ChatsFile), ChatsFile, im.chat); err != nil {
		return im.rep, err
	}
	return im.rep, nil
}

// readArray calls fn with each item of the JSON array in file path (named
// name in errors); a missing file is an empty array.
func readArray(ctx context.Context, path, name string, fn func(context.Context, []byte) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("%s: must hold a JSON array", name)
	}
	for i := 1; dec.More(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s: item %d: invalid JSON: %v", name, i, err)
		}
		if err := fn(ctx, raw); err != nil {
			return fmt.Errorf("%s: item %d: %w", name, i, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: invalid JSON: %v", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: data after the array", name)
	}
	return nil
}

// readLines calls fn with each non-blank line of file path (named name in
// errors); a missing file has no lines.
func readLines(ctx context.Context, path, name string, fn func(context.Context, []byte) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var buf []byte
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf, err = ReadLine(r, buf[:0])
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if line := bytes.TrimSpace(buf); len(line) > 0 {
			if ferr := fn(ctx, line); ferr != nil {
				return fmt.Errorf("%s:%d: %w", name, n, ferr)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// ReadLine appends the next line of r (with its newline) to buf, up to
// MaxLine bytes; both migration formats read their files with it.
func ReadLine(r *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		frag, err := r.ReadSlice('\n')
		if len(buf)+len(frag) > MaxLine {
			return buf, fmt.Errorf("line longer than %d MiB", MaxLine>>20)
		}
		buf = append(buf, frag...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

// importer runs one import.
type importer struct {
	svc  *livechat.Service
	rep  *livechat.MigrationReport
	step livechat.Progress
	// prios are the memberships groups' agent_priorities give, by agent id.
	prios map[string][]livechat.GroupMembership
	// agents are the agent ids agents.json holds.
	agents map[string]bool
	// known caches which agent ids chats name are in the store.
	known map[string]bool
}

func (im *importer) count(kind string, written bool) {
	im.rep.Count(kind, written)
	im.step(kind)
}

// groupJSON is a list_groups item.
type groupJSON struct {
	ID              *int              `json:"id"`
	Name            string            `json:"name"`
	LanguageCode    string            `json:"language_code"`
	AgentPriorities map[string]string `json:"agent_priorities"`
}

func (im *importer) group(ctx context.Context, raw []byte) error {
	var j groupJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return fmt.Errorf("not a group: %v", err)
	}
	if j.ID == nil {
		return errors.New("a group needs an id")
	}
	written, err := im.svc.ImportGroup(ctx, &livechat.Group{ID: *j.ID, Name: j.Name, LanguageCode: j.LanguageCode})
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(j.AgentPriorities))
	for id := range j.AgentPriorities {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		key := agentKey(id)
		im.prios[key] = append(im.prios[key], livechat.GroupMembership{ID: *j.ID, Priority: j.AgentPriorities[id]})
	}
	im.count(kindGroups, written)
	return nil
}

// agentKey is how agent ids compare: e-mails are case-insensitive.
func agentKey(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// agentJSON is a get_agent or get_bot item, with chatbridge's extensions.
type agentJSON struct {
	ID                   string                      `json:"id"`
	Kind                 string                      `json:"kind"`
	AccountID            string                      `json:"account_id"`
	Username             string                      `json:"username"`
	Name                 string                      `json:"name"`
	Role                 string                      `json:"role"`
	Avatar               string                      `json:"avatar"`
	AvatarPath           string                      `json:"avatar_path"` // ≤3.3
	LoginStatus          string                      `json:"login_status"`
	JobTitle             string                      `json:"job_title"`
	Mobile               string                      `json:"mobile"`
	MaxChatsCount        int                         `json:"max_chats_count"`
	Groups               *[]livechat.GroupMembership `json:"groups"`
	Notifications        []string                    `json:"notifications"`
	EmailSubscriptions   []string                    `json:"email_subscriptions"`
	WorkScheduler        json.RawMessage             `json:"work_scheduler"`
	Timezone             string                      `json:"timezone"` // bots
	Suspended            bool                        `json:"suspended"`
	AwaitingApproval     bool                        `json:"awaiting_approval"`
	DefaultGroupPriority string                      `json:"default_group_priority"`
	OwnerClientID        string                      `json:"owner_client_id"`
}

func (im *importer) agent(ctx context.Context, raw []byte) error {
	var j agentJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return fmt.Errorf("not an agent: %v", err)
	}
	if strings.TrimSpace(j.ID) == "" {
		return errors.New("an agent needs an id")
	}
	a := &livechat.Agent{ID: j.ID, AccountID: j.AccountID, Username: j.Username, Name: j.Name, Avatar: j.Avatar,
		Role: j.Role, MaxChats: j.MaxChatsCount, Suspended: j.Suspended, OwnerClientID: j.OwnerClientID,
		AgentProfile: livechat.AgentProfile{JobTitle: j.JobTitle, Mobile: j.Mobile, AwaitingApproval: j.AwaitingApproval,
			DefaultGroupPriority: j.DefaultGroupPriority,
			Notifications:        im.keepKnown(j.Notifications, livechat.AgentNotifications, "agent notifications values chatbridge does not know"),
			EmailSubscriptions:   im.keepKnown(j.EmailSubscriptions, livechat.AgentEmailSubscriptions, "agent email_subscriptions values chatbridge does not know")}}
	if a.Avatar == "" {
		a.Avatar = j.AvatarPath
	}
	switch {
	case j.Kind == livechat.AgentKindBot || j.Kind == "" && botIDRe.MatchString(j.ID):
		a.Kind = livechat.AgentKindBot
	case j.Kind == "" || j.Kind == livechat.AgentKindHuman:
		a.Kind, a.Email = livechat.AgentKindHuman, j.ID
	default:
		return fmt.Errorf("agent %s: unknown kind %q", j.ID, j.Kind)
	}
	var err error
	if a.RoutingStatus, err = routingStatus(j.LoginStatus); err != nil {
		return fmt.Errorf("agent %s: %w", j.ID, err)
	}
	if a.WorkScheduler, err = parseSchedule(j.WorkScheduler, j.Timezone); err != nil {
		return fmt.Errorf("agent %s: %w", j.ID, err)
	}
	key := agentKey(j.ID)
	if j.Groups != nil {
		a.Groups = *j.Groups
	} else {
		a.Groups = slices.Clone(im.prios[key])
	}
	im.agents[key] = true
	written, err := im.svc.ImportAgent(ctx, a)
	if err != nil {
		return err
	}
	im.count(kindAgents, written)
	return nil
}

// keepKnown keeps the values of got found in allowed and reports the others.
func (im *importer) keepKnown(got, allowed []string, why string) []string {
	var out []string
	for _, v := range got {
		if slices.Contains(allowed, v) {
			out = append(out, v)
		} else {
			im.rep.Drop(why)
		}
	}
	return out
}

// routingStatus reads a login_status.
func routingStatus(s string) (string, error) {
	switch strings.ReplaceAll(s, "_", " ") {
	case "":
		return "", nil
	case "accepting chats":
		return livechat.RoutingAccepting, nil
	case "not accepting chats":
		return livechat.RoutingNotAccepting, nil
	case "offline":
		return livechat.RoutingOffline, nil
	}
	return "", fmt.Errorf("login_status %q is not accepting chats, not accepting chats or offline", s)
}

// parseSchedule reads a work_scheduler in either shape: 3.5's {timezone,
// schedule: [{day, enabled, start, end}]} or 3.3/3.4's {day: {start, end}};
// tz is a bot's top-level timezone. An empty object is no schedule.
func parseSchedule(raw json.RawMessage, tz string) (*livechat.WorkScheduler, error) {
	var probe map[string]json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, errors.New("work_scheduler must be an object")
		}
	}
	if len(probe) == 0 {
		if tz == "" {
			return nil, nil
		}
		return &livechat.WorkScheduler{Timezone: tz, Schedule: []livechat.WorkDay{}}, nil
	}
	_, hasSchedule := probe["schedule"]
	_, hasTZ := probe["timezone"]
	if hasSchedule || hasTZ {
		var w livechat.WorkScheduler
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("work_scheduler: %v", err)
		}
		if w.Timezone == "" {
			w.Timezone = tz
		}
		if w.Schedule == nil {
			w.Schedule = []livechat.WorkDay{}
		}
		return &w, nil
	}
	w := &livechat.WorkScheduler{Timezone: tz, Schedule: []livechat.WorkDay{}}
	for _, day := range livechat.WeekDays {
		r, ok := probe[day]
		if !ok {
			continue
		}
		var se struct {
			Start string `json:"start"`
			End   string `json:"end"`
		}
		if err := json.Unmarshal(r, &se); err != nil {
			return nil, fmt.Errorf("work_scheduler.%s: %v", day, err)
		}
		w.Schedule = append(w.Schedule, livechat.WorkDay{Day: day, Enabled: true, Start: se.Start, End: se.End})
		delete(probe, day)
	}
	for k := range probe {
		return nil, fmt.Errorf("work_scheduler: unknown key %q", k)
	}
	if w.Timezone == "" {
		w.Timezone = "UTC" // 3.3/3.4 agents' schedules had no time zone
	}
	return w, nil
}

// customerJSON is a get_customer answer, with chatbridge's extensions.
type customerJSON struct {
	ID            string              `json:"id"`
	Type          string              `json:"type"`
	Name          string              `json:"name"`
	Email         string              `json:"email"`
	EmailVerified bool                `json:"email_verified"`
	Avatar        string              `json:"avatar"`
	SessionFields []map[string]string `json:"session_fields"`
	GroupIDs      []int               `json:"group_ids"`
	LastVisit     *struct {
		livechat.Visit
		Geolocation json.RawMessage `json:"geolocation"`
	} `json:"last_visit"`
	Statistics struct {
		ChatsCount             int `json:"chats_count"`
		ThreadsCount           int `json:"threads_count"`
		VisitsCount            int `json:"visits_count"`
		PageViewsCount         int `json:"page_views_count"`
		GreetingsShownCount    int `json:"greetings_shown_count"`
		GreetingsAcceptedCount int `json:"greetings_accepted_count"`
	} `json:"statistics"`
	AgentLastEventCreatedAt    *time.Time `json:"agent_last_event_created_at"`
	CustomerLastEventCreatedAt *time.Time `json:"customer_last_event_created_at"`
	CreatedAt                  time.Time  `json:"created_at"`
	BannedUntil                *time.Time `json:"banned_until"`
}

func (im *importer) customer(ctx context.Context, raw []byte) error {
	var j customerJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return fmt.Errorf("not a customer: %v", err)
	}
	if j.Type != "" && j.Type != livechat.UserCustomer {
		return fmt.Errorf("customer %s: type %q is not customer", j.ID, j.Type)
	}
	st := j.Statistics
	c := &livechat.Customer{ID: j.ID, Name: j.Name, Email: j.Email, EmailVerified: j.EmailVerified, Avatar: j.Avatar,
		SessionFields: j.SessionFields, GroupIDs: j.GroupIDs, BannedUntil: j.BannedUntil,
		ChatsCount: st.ChatsCount, ThreadsCount: st.ThreadsCount, VisitsCount: st.VisitsCount, PageViewsCount: st.PageViewsCount,
		AgentLastEventAt: j.AgentLastEventCreatedAt, CustomerLastEventAt: j.CustomerLastEventCreatedAt, CreatedAt: j.CreatedAt}
	if v := j.LastVisit; v != nil {
		c.LastVisit = &v.Visit
		if len(v.Geolocation) > 0 && string(v.Geolocation) != "null" {
			im.rep.Drop("customers' last_visit.geolocation: chatbridge keeps none")
		}
	}
	if st.GreetingsShownCount != 0 || st.GreetingsAcceptedCount != 0 {
		im.rep.Drop("customers' greetings statistics: chatbridge has no greetings")
	}
	written, err := im.svc.ImportCustomer(ctx, c)
	if err != nil {
		return err
	}
	im.count(kindCustomers, written)
	return nil
}

// chatJSON is a chat object with all of its threads ("threads"), or with
// one as get_chat gives it ("thread").
type chatJSON struct {
	ID         string              `json:"id"`
	Users      []livechat.ChatUser `json:"users"`
	Properties livechat.Properties `json:"properties"`
	Access     *livechat.Access    `json:"access"`
	Threads    []threadJSON        `json:"threads"`
	Thread     *threadJSON         `json:"thread"`
}

// threadJSON is a thread object, with chatbridge's closed_at.
type threadJSON struct {
	ID               string              `json:"id"`
	Active           bool                `json:"active"`
	UserIDs          []string            `json:"user_ids"`
	Events           []eventJSON         `json:"events"`
	RestrictedAccess json.RawMessage     `json:"restricted_access"`
	Properties       livechat.Properties `json:"properties"`
	Access           *livechat.Access    `json:"access"`
	Tags             []string            `json:"tags"`
	Queue            *livechat.Queue     `json:"queue"`
	CreatedAt        time.Time           `json:"created_at"`
	ClosedAt         *time.Time          `json:"closed_at"`
}

// eventJSON is an event object; thread_id is what webhook payloads add,
// recipients the ≤3.3 name of visibility.
type eventJSON struct {
	livechat.Event
	ThreadID   string `json:"thread_id"`
	Recipients string `json:"recipients"`
}

func (im *importer) chat(ctx context.Context, raw []byte) error {
	var j chatJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if j.ID == "" {
		return errors.New("a chat needs an id")
	}
	c := &livechat.Chat{ID: j.ID, Users: make([]livechat.ChatUser, 0, len(j.Users)), Properties: j.Properties}
	if j.Access != nil {
		c.Access = *j.Access
	}
	for _, u := range j.Users {
		switch u.Type {
		case livechat.UserCustomer:
			if c.CustomerID != "" {
				return fmt.Errorf("chat %s: two customers among its users", j.ID)
			}
			c.CustomerID = u.ID
		case livechat.UserAgent:
			u.ID = agentKey(u.ID) // agent ids (e-mails) are stored lower-cased
			ok, err := im.agentExists(ctx, u.ID)
			if err != nil {
				return err
			}
			if !ok { // deleted since: LiveChat's list_agents no longer has them
				im.rep.Drop("chat users who are agents neither in " + AgentsFile + " nor in the store (deleted agents; their events are kept)")
				continue
			}
		default:
			return fmt.Errorf("chat %s: user %s has type %q, not agent or customer", j.ID, u.ID, u.Type)
		}
		c.Users = append(c.Users, u)
	}
	if c.CustomerID == "" {
		return fmt.Errorf("chat %s: no customer among its users", j.ID)
	}
	tjs := j.Threads
	if j.Thread != nil && !slices.ContainsFunc(tjs, func(t threadJSON) bool { return t.ID == j.Thread.ID }) {
		tjs = append(tjs, *j.Thread)
	}
	threads := make([]livechat.Thread, 0, len(tjs))
	var events []livechat.Event
	for _, tj := range tjs {
		t, evs, err := im.thread(c, &tj)
		if err != nil {
			return err
		}
		threads = append(threads, t)
		events = append(events, evs...)
	}
	written, err := im.svc.ImportChat(ctx, c, threads, events)
	if err != nil {
		return err
	}
	tally := im.rep.Skipped
	if written {
		tally = im.rep.Written
	}
	add(tally, kindThreads, len(threads))
	add(tally, kindEvents, len(events))
	im.count(kindChats, written)
	return nil
}

// agentExists says whether agent id is in the store (imported or there before).
func (im *importer) agentExists(ctx context.Context, id string) (bool, error) {
	key := agentKey(id)
	if ok, seen := im.known[key]; seen {
		return ok, nil
	}
	_, err := im.svc.GetAgent(ctx, livechat.System(), key)
	if err != nil && !livechat.IsType(err, livechat.TypeNotFound) {
		return false, err
	}
	im.known[key] = err == nil
	return err == nil, nil
}

// thread converts one thread of chat chatID with its events.
func (im *importer) thread(c *livechat.Chat, tj *threadJSON) (livechat.Thread, []livechat.Event, error) {
	chatID := c.ID
	// An agent's id is written as the chat's users name it (lower-cased).
	norm := func(id string) string {
		if k := agentKey(id); k != id && c.User(k) != nil {
			return k
		}
		return id
	}
	t := livechat.Thread{ID: tj.ID, Active: tj.Active, UserIDs: make([]string, 0, len(tj.UserIDs)), Properties: tj.Properties, Tags: tj.Tags,
		Queue: tj.Queue, CreatedAt: tj.CreatedAt, ClosedAt: tj.ClosedAt}
	for _, id := range tj.UserIDs {
		t.UserIDs = append(t.UserIDs, norm(id))
	}
	if tj.Access != nil {
		t.Access = *tj.Access
	}
	if t.CreatedAt.IsZero() {
		return t, nil, fmt.Errorf("chat %s: thread %q has no created_at", chatID, tj.ID)
	}
	if r := string(tj.RestrictedAccess); r != "" && r != "null" && r != "false" && r != `""` {
		im.rep.Drop("threads given with restricted_access: their events are not in the file")
	}
	events := make([]livechat.Event, 0, len(tj.Events))
	last := t.CreatedAt
	for _, ej := range tj.Events {
		e := ej.Event
		if ej.ThreadID != "" && ej.ThreadID != tj.ID {
			return t, nil, fmt.Errorf("chat %s: event %s, listed in thread %s, names thread %q", chatID, e.ID, tj.ID, ej.ThreadID)
		}
		if e.CreatedAt.IsZero() {
			return t, nil, fmt.Errorf("chat %s: event %q has no created_at", chatID, e.ID)
		}
		if e.Visibility == "" {
			e.Visibility = ej.Recipients
		}
		e.ThreadID = tj.ID
		e.AuthorID = norm(e.AuthorID)
		if e.CreatedAt.After(last) {
			last = e.CreatedAt
		}
		events = append(events, e)
	}
	if !t.Active && t.ClosedAt == nil {
		t.ClosedAt = &last // closed with its last event (a chat closes with a system message)
	}
	return t, events, nil
}
