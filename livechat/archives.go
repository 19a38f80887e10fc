package livechat

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// ValuesFilter is LiveChat's <filter_type>: one of Exists, Values or
// ExcludeValues, with RequireEveryValue asking for all the values instead of
// any of them.
type ValuesFilter struct {
	Exists            *bool
	Values            []string
	ExcludeValues     []string
	RequireEveryValue bool
}

// match applies the filter to the set of values an object has.
func (f *ValuesFilter) match(have []string) bool {
	if f == nil {
		return true
	}
	if f.Exists != nil && (len(have) > 0) != *f.Exists {
		return false
	}
	count := func(list []string) int {
		n := 0
		for _, v := range list {
			if slices.Contains(have, v) {
				n++
			}
		}
		return n
	}
	if len(f.Values) > 0 {
		n := count(f.Values)
		if n == 0 || (f.RequireEveryValue && n < len(f.Values)) {
			return false
		}
	}
	if len(f.ExcludeValues) > 0 {
		n := count(f.ExcludeValues)
		if (f.RequireEveryValue && n == len(f.ExcludeValues)) || (!f.RequireEveryValue && n > 0) {
			return false
		}
	}
	return true
}

// PropertyFilter filters on one property: it exists (or not), or its value
// is (not) one of a list.
type PropertyFilter struct {
	Exists        *bool
	Values        []any
	ExcludeValues []any
}

func (f PropertyFilter) match(v any, ok bool) bool {
	if f.Exists != nil && ok != *f.Exists {
		return false
	}
	in := func(list []any) bool {
		return slices.ContainsFunc(list, func(x any) bool { return ok && sameValue(x, v) })
	}
	if len(f.Values) > 0 && !in(f.Values) {
		return false
	}
	return !in(f.ExcludeValues)
}

// sameValue compares property values across number types (JSON numbers
// decode as float64, stored ones come back as int).
func sameValue(a, b any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// SurveyFilter keeps threads with a filled pre-chat or post-chat form
// (LiveChat's surveys / forms filter).
type SurveyFilter struct {
	// Type is pre_chat or post_chat.
	Type          string
	Exists        *bool
	Values        []string // answer ids
	ExcludeValues []string
}

// AgentResponseFilter keeps threads by the agents' messages in them.
type AgentResponseFilter struct {
	Exists *bool
	// First looks at the first agent message only.
	First  bool
	Agents *ValuesFilter
	Groups *IntFilter
}

// HighlightTags wrap query matches in highlights.
type HighlightTags struct {
	Pre, Post string
}

// ArchiveFilter selects threads for list_archives.
type ArchiveFilter struct {
	// Query is free text: every word must appear in the thread's messages,
	// file names or its customer's name or e-mail (case-insensitive).
	Query     string
	From, To  *time.Time
	ThreadIDs []string
	GroupIDs  []int
	Agents    *ValuesFilter
	Tags      *ValuesFilter
	// Properties filter chat properties, overridden by thread properties of the same name.
	Properties    map[string]map[string]PropertyFilter
	EventTypes    *ValuesFilter
	Surveys       []SurveyFilter
	AgentResponse *AgentResponseFilter
	// Sales, Goals, Greetings and CustomerCountries name data chatbridge does
	// not keep: they match as if every thread had none.
	Sales, Goals, Greetings, CustomerCountries *ValuesFilter
	// Highlight, when set, returns the query's matches wrapped in these tags.
	Highlight *HighlightTags
	Asc       bool
}

// Highlight is one field of an event where the query matched.
type Highlight struct {
	Type  string
	Field string
	Text  string
}

// ArchiveHit is one thread of list_archives with its chat and events.
type ArchiveHit struct {
	Chat                       *Chat
	Thread                     *Thread
	Events                     []Event
	PreviousAccessibleThreadID string
	NextAccessibleThreadID     string
	Highlights                 []Highlight
}

func (f *ArchiveFilter) needsEvents() bool {
	return f.Query != "" || f.EventTypes != nil || len(f.Surveys) > 0 || f.AgentResponse != nil
}

// ListArchives returns the threads the actor may read that match f (one hit
// per thread, a chat may appear several times), newest first unless f.Asc,
// skipping skip and returning at most limit (0: all), with the number found.
// Agents only.
func (s *Service) ListArchives(ctx context.Context, actor Actor, f ArchiveFilter, skip, limit int) ([]ArchiveHit, int, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, 0, Errorf(TypeAuthorization, "Only agents can list archives")
	}
	terms, err := queryTerms(f.Query)
	if err != nil {
		return nil, 0, err
	}
	chats, _, err := s.ListChats(ctx, actor, ChatFilter{IncludeInactive: true})
	if err != nil {
		return nil, 0, err
	}
	byID := make(map[string]*Chat, len(chats))
	ids := make([]string, 0, len(chats))
	for i := range chats {
		byID[chats[i].ID] = &chats[i]
		ids = append(ids, chats[i].ID)
	}
	if len(ids) == 0 {
		return []ArchiveHit{}, 0, nil
	}
	threads, err := s.store.Threads().Find(ctx, Where(Cond{Field: "chat_id", Op: OpIn, Value: ids}))
	if err != nil {
		return nil, 0, err
	}
	agentIDs, err := s.agentIDSet(ctx)
	if err != nil {
		return nil, 0, err
	}
	// The threads of each chat the actor may read, oldest first, for the
	// previous/next accessible links.
	readable := map[string][]*Thread{}
	var candidates []*Thread
	for i := range threads {
		t := &threads[i]
		c := byID[t.ChatID]
		if c == nil || !canReadThread(actor, c, t) {
			continue
		}
		readable[t.ChatID] = append(readable[t.ChatID], t)
		if f.matchThread(c, t, agentIDs) {
			candidates = append(candidates, t)
		}
	}
	var events map[string][]Event
	if f.needsEvents() && len(candidates) > 0 {
		if events, err = s.eventsOf(ctx, candidates); err != nil {
			return nil, 0, err
		}
		customers := map[string]*Customer{}
		kept := candidates[:0]
		for _, t := range candidates {
			c := byID[t.ChatID]
			hay := []string{}
			if len(terms) > 0 && c.CustomerID != "" {
				cu, ok := customers[c.CustomerID]
				if !ok {
					cu, _ = s.store.Customers().Get(ctx, c.CustomerID)
					customers[c.CustomerID] = cu
				}
				if cu != nil {
					hay = append(hay, cu.Name, cu.Email)
				}
			}
			if f.matchEvents(events[t.ID], terms, hay, agentIDs) {
				kept = append(kept, t)
			}
		}
		candidates = kept
	}
	sort.Slice(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt) == f.Asc
		}
		return (a.ID < b.ID) == f.Asc
	})
	total := len(candidates)
	candidates = candidates[min(skip, len(candidates)):]
	if limit > 0 && len(candidates) > limit {
		candidates = candidates[:limit]
	}
	if events == nil && len(candidates) > 0 {
		if events, err = s.eventsOf(ctx, candidates); err != nil {
			return nil, 0, err
		}
	}
	for _, list := range readable {
		sort.Slice(list, func(i, j int) bool {
			return list[i].CreatedAt.Before(list[j].CreatedAt) || (list[i].CreatedAt.Equal(list[j].CreatedAt) && list[i].ID < list[j].ID)
		})
	}
	hits := make([]ArchiveHit, 0, len(candidates))
	for _, t := range candidates {
		h := ArchiveHit{Chat: byID[t.ChatID], Thread: t, Events: events[t.ID]}
		if h.Events == nil {
			h.Events = []Event{}
		}
		list := readable[t.ChatID]
		if i := slices.Index(list, t); i >= 0 {
			if i > 0 {
				h.PreviousAccessibleThreadID = list[i-1].ID
			}
			if i+1 < len(list) {
				h.NextAccessibleThreadID = list[i+1].ID
			}
		}
		if f.Highlight != nil && len(terms) > 0 {
			h.Highlights = highlights(h.Events, terms, *f.Highlight)
		}
		hits = append(hits, h)
	}
	return hits, total, nil
}

// canReadThread: the actor reads the chat, and the thread's own access groups
// meet the agent's (or the agent took part in it, or follows or is in the chat).
func canReadThread(actor Actor, c *Chat, t *Thread) bool {
	if actor.IsSystem() || (actor.IsAgent() && actor.Agent.SeesAllChats()) {
		return true
	}
	if !actor.IsAgent() {
		return false
	}
	return c.User(actor.ID) != nil || slices.Contains(c.Followers, actor.ID) || slices.Contains(t.UserIDs, actor.ID) ||
		groupsMeet(actor.Agent.GroupIDs(), t.Access.GroupIDs)
}

func (s *Service) agentIDSet(ctx context.Context) (map[string]*Agent, error) {
	agents, err := s.store.Agents().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Agent, len(agents))
	for i := range agents {
		out[agents[i].ID] = &agents[i]
	}
	return out, nil
}

func (s *Service) eventsOf(ctx context.Context, threads []*Thread) (map[string][]Event, error) {
	ids := make([]string, 0, len(threads))
	for _, t := range threads {
		ids = append(ids, t.ID)
	}
	evs, err := s.store.Events().Find(ctx, Query{Where: []Cond{{Field: "thread_id", Op: OpIn, Value: ids}}, Sort: "created_at"})
	if err != nil {
		return nil, err
	}
	out := map[string][]Event{}
	for _, e := range evs {
		out[e.ThreadID] = append(out[e.ThreadID], e)
	}
	return out, nil
}

// matchThread applies the filters that need no events.
func (f *ArchiveFilter) matchThread(c *Chat, t *Thread, agents map[string]*Agent) bool {
	if len(f.ThreadIDs) > 0 && !slices.Contains(f.ThreadIDs, t.ID) {
		return false
	}
	if (f.From != nil && t.CreatedAt.Before(*f.From)) || (f.To != nil && t.CreatedAt.After(*f.To)) {
		return false
	}
	if len(f.GroupIDs) > 0 && !groupsMeet(t.Access.GroupIDs, f.GroupIDs) {
		return false
	}
	var threadAgents []string
	for _, id := range t.UserIDs {
		if agents[id] != nil {
			threadAgents = append(threadAgents, id)
		}
	}
	if !f.Agents.match(threadAgents) || !f.Tags.match(t.Tags) {
		return false
	}
	for _, none := range []*ValuesFilter{f.Sales, f.Goals, f.Greetings, f.CustomerCountries} {
		if !none.match(nil) {
			return false
		}
	}
	for ns, names := range f.Properties {
		for name, pf := range names {
			v, ok := t.Properties[ns][name]
			if !ok {
				v, ok = c.Properties[ns][name]
			}
			if !pf.match(v, ok) {
				return false
			}
		}
	}
	return true
}

// matchEvents applies the filters that look at a thread's events.
func (f *ArchiveFilter) matchEvents(evs []Event, terms []*regexp.Regexp, extra []string, agents map[string]*Agent) bool {
	if len(terms) > 0 {
		hay := slices.Clone(extra)
		for i := range evs {
			hay = append(hay, evs[i].Text, evs[i].Name)
		}
		all := strings.Join(hay, "\n")
		for _, re := range terms {
			if !re.MatchString(all) {
				return false
			}
		}
	}
	if f.EventTypes != nil {
		var types []string
		for i := range evs {
			types = addUnique(types, evs[i].Type)
		}
		if !f.EventTypes.match(types) {
			return false
		}
	}
	for _, sf := range f.Surveys {
		if !sf.match(evs) {
			return false
		}
	}
	if ar := f.AgentResponse; ar != nil {
		var authors []string
		for i := range evs {
			if evs[i].Type == EventMessage && agents[evs[i].AuthorID] != nil {
				authors = addUnique(authors, evs[i].AuthorID)
				if ar.First {
					break
				}
			}
		}
		if ar.Exists != nil && (len(authors) > 0) != *ar.Exists {
			return false
		}
		if !ar.Agents.match(authors) {
			return false
		}
		if g := ar.Groups; g != nil {
			var groups []int
			for _, id := range authors {
				groups = append(groups, agents[id].GroupIDs()...)
			}
			if (len(g.Values) > 0 && !groupsMeet(groups, g.Values)) || groupsMeet(groups, g.ExcludeValues) {
				return false
			}
		}
	}
	return true
}

func (sf SurveyFilter) match(evs []Event) bool {
	formType := strings.ReplaceAll(sf.Type, "_", "")
	found := false
	var answers []string
	for i := range evs {
		e := &evs[i]
		if e.Type != EventFilledForm || (formType != "" && strings.ReplaceAll(e.FormType, "_", "") != formType) {
			continue
		}
		found = true
		answers = append(answers, answerIDs(e.Fields)...)
	}
	if sf.Exists != nil && found != *sf.Exists {
		return false
	}
	if sf.Exists == nil && len(sf.Values) == 0 && len(sf.ExcludeValues) == 0 {
		return found // a bare type asks for a filled form of that type
	}
	return (&ValuesFilter{Values: sf.Values, ExcludeValues: sf.ExcludeValues}).match(answers)
}

// answerIDs collects the ids of the chosen answers of filled form fields.
func answerIDs(fields []any) []string {
	b, err := json.Marshal(fields)
	if err != nil {
		return nil
	}
	var fs []struct {
		Answer  json.RawMessage   `json:"answer"`
		Answers []json.RawMessage `json:"answers"`
	}
	if json.Unmarshal(b, &fs) != nil {
		return nil
	}
	var ids []string
	add := func(raw json.RawMessage) {
		var a struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &a) == nil && a.ID != "" {
			ids = append(ids, a.ID)
		}
	}
	for _, f := range fs {
		add(f.Answer)
		for _, a := range f.Answers {
			add(a)
		}
	}
	return ids
}

// queryTerms turns a free-text query into one case-insensitive pattern per word.
func queryTerms(q string) ([]*regexp.Regexp, error) {
	words := strings.Fields(q)
	if len(words) > 32 || len(q) > 1024 {
		return nil, Errorf(TypeValidation, "filters.query is too long")
	}
	out := make([]*regexp.Regexp, 0, len(words))
	for _, w := range words {
		out = append(out, regexp.MustCompile("(?i)"+regexp.QuoteMeta(w)))
	}
	return out, nil
}

// highlights wraps the query's matches in the events' texts.
func highlights(evs []Event, terms []*regexp.Regexp, tags HighlightTags) []Highlight {
	parts := make([]string, 0, len(terms))
	for _, re := range terms {
		parts = append(parts, strings.TrimPrefix(re.String(), "(?i)"))
	}
	all := regexp.MustCompile("(?i)(" + strings.Join(parts, "|") + ")")
	var out []Highlight
	for i := range evs {
		e := &evs[i]
		for _, field := range []struct{ name, text string }{{"text", e.Text}, {"name", e.Name}} {
			if field.text != "" && all.MatchString(field.text) {
				text := all.ReplaceAllStringFunc(field.text, func(m string) string { return tags.Pre + m + tags.Post })
				out = append(out, Highlight{Type: e.Type, Field: field.name, Text: text})
			}
		}
	}
	return out
}
