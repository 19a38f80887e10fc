package api

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// valuesFilterReq is LiveChat's <filter_type>; values may be strings or
// numbers (greeting, goal and sale ids).
type valuesFilterReq struct {
	Exists            *bool `json:"exists"`
	Values            []any `json:"values"`
	ExcludeValues     []any `json:"exclude_values"`
	RequireEveryValue bool  `json:"require_every_value"`
}

func (f *valuesFilterReq) core(name string) (*livechat.ValuesFilter, error) {
	if f == nil {
		return nil, nil
	}
	n := 0
	for _, set := range []bool{f.Exists != nil, f.Values != nil, f.ExcludeValues != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, livechat.Errorf(livechat.TypeValidation, "filters.%s takes one of exists, values and exclude_values", name)
	}
	out := &livechat.ValuesFilter{Exists: f.Exists, RequireEveryValue: f.RequireEveryValue}
	var err error
	if out.Values, err = stringValues(name, f.Values); err != nil {
		return nil, err
	}
	if out.ExcludeValues, err = stringValues(name, f.ExcludeValues); err != nil {
		return nil, err
	}
	return out, nil
}

func stringValues(name string, vs []any) ([]string, error) {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		case bool:
			out = append(out, strconv.FormatBool(x))
		default:
			return nil, livechat.Errorf(livechat.TypeValidation, "filters.%s values must be strings or numbers", name)
		}
	}
	return out, nil
}

type propertyFilterReq struct {
	Exists        *bool `json:"exists"`
	Values        []any `json:"values"`
	ExcludeValues []any `json:"exclude_values"`
}

type surveyFilterReq struct {
	Type          string   `json:"type"`
	AnswerID      string   `json:"answer_id"`
	Exists        *bool    `json:"exists"`
	Values        []string `json:"values"`
	ExcludeValues []string `json:"exclude_values"`
}

type archiveFiltersReq struct {
	Query      string                                  `json:"query"`
	From       string                                  `json:"from"`
	To         string                                  `json:"to"`
	ThreadIDs  []string                                `json:"thread_ids"`
	GroupIDs   []int                                   `json:"group_ids"`
	Agents     *valuesFilterReq                        `json:"agents"`
	Tags       *valuesFilterReq                        `json:"tags"`
	Sales      *valuesFilterReq                        `json:"sales"`
	Goals      *valuesFilterReq                        `json:"goals"`
	Properties map[string]map[string]propertyFilterReq `json:"properties"`
	EventTypes *valuesFilterReq                        `json:"event_types"`
	// Events is the 3.3 form of event_types: {"types": [...]}.
	Events *struct {
		Types []string `json:"types"`
	} `json:"events"`
	Surveys       []surveyFilterReq `json:"surveys"`
	Forms         []surveyFilterReq `json:"forms"`
	Greetings     *valuesFilterReq  `json:"greetings"`
	AgentResponse *struct {
		Exists *bool            `json:"exists"`
		First  bool             `json:"first"`
		Agents *valuesFilterReq `json:"agents"`
		Groups *intFilterReq    `json:"groups"`
	} `json:"agent_response"`
	CustomerCountries *valuesFilterReq `json:"customer_countries"`
}

// core turns the request filters into the core's.
func (r *archiveFiltersReq) core() (livechat.ArchiveFilter, error) {
	f := livechat.ArchiveFilter{Query: r.Query, ThreadIDs: r.ThreadIDs, GroupIDs: r.GroupIDs}
	if len(r.ThreadIDs) > 20 {
		return f, livechat.Errorf(livechat.TypeValidation, "filters.thread_ids holds at most 20 threads")
	}
	if len(r.GroupIDs) > 200 {
		return f, livechat.Errorf(livechat.TypeValidation, "filters.group_ids holds at most 200 groups")
	}
	for _, p := range []struct {
		s   string
		dst **time.Time
	}{{r.From, &f.From}, {r.To, &f.To}} {
		if p.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.s)
		if err != nil {
			return f, livechat.Errorf(livechat.TypeValidation, "filters.from and filters.to must be RFC 3339 times")
		}
		*p.dst = &t
	}
	var err error
	for _, v := range []struct {
		name string
		src  *valuesFilterReq
		dst  **livechat.ValuesFilter
	}{{"agents", r.Agents, &f.Agents}, {"tags", r.Tags, &f.Tags}, {"sales", r.Sales, &f.Sales}, {"goals", r.Goals, &f.Goals},
		{"event_types", r.EventTypes, &f.EventTypes}, {"greetings", r.Greetings, &f.Greetings}, {"customer_countries", r.CustomerCountries, &f.CustomerCountries}} {
		if *v.dst, err = v.src.core(v.name); err != nil {
			return f, err
		}
	}
	if r.Events != nil && f.EventTypes == nil && len(r.Events.Types) > 0 {
		f.EventTypes = &livechat.ValuesFilter{Values: r.Events.Types}
	}
	for ns, names := range r.Properties {
		for name, pf := range names {
			if (pf.Exists != nil && (pf.Values != nil || pf.ExcludeValues != nil)) || (pf.Values != nil && pf.ExcludeValues != nil) {
				return f, livechat.Errorf(livechat.TypeValidation, "filters.properties.%s.%s takes one of exists, values and exclude_values", ns, name)
			}
			if f.Properties == nil {
				f.Properties = map[string]map[string]livechat.PropertyFilter{}
			}
			if f.Properties[ns] == nil {
				f.Properties[ns] = map[string]livechat.PropertyFilter{}
			}
			f.Properties[ns][name] = livechat.PropertyFilter{Exists: pf.Exists, Values: pf.Values, ExcludeValues: pf.ExcludeValues}
		}
	}
	for _, s := range append(r.Surveys, r.Forms...) {
		if s.Type != "" && s.Type != "pre_chat" && s.Type != "post_chat" {
			return f, livechat.Errorf(livechat.TypeValidation, "filters.surveys[].type must be pre_chat or post_chat")
		}
		sf := livechat.SurveyFilter{Type: s.Type, Exists: s.Exists, Values: s.Values, ExcludeValues: s.ExcludeValues}
		if s.AnswerID != "" {
			sf.Values = append(sf.Values, s.AnswerID)
		}
		f.Surveys = append(f.Surveys, sf)
	}
	if ar := r.AgentResponse; ar != nil {
		f.AgentResponse = &livechat.AgentResponseFilter{Exists: ar.Exists, First: ar.First}
		if f.AgentResponse.Agents, err = ar.Agents.core("agent_response.agents"); err != nil {
			return f, err
		}
		if ar.Groups != nil {
			f.AgentResponse.Groups = &livechat.IntFilter{Values: ar.Groups.Values, ExcludeValues: ar.Groups.ExcludeValues}
		}
	}
	if len(r.ThreadIDs) > 0 && !r.onlyThreadIDs() {
		return f, livechat.Errorf(livechat.TypeValidation, "filters.thread_ids cannot be combined with other filters")
	}
	return f, nil
}

// onlyThreadIDs says whether no filter but thread_ids is given.
func (r *archiveFiltersReq) onlyThreadIDs() bool {
	return r.Query == "" && r.From == "" && r.To == "" && len(r.GroupIDs) == 0 && r.Agents == nil && r.Tags == nil &&
		r.Sales == nil && r.Goals == nil && len(r.Properties) == 0 && r.EventTypes == nil && r.Events == nil &&
		len(r.Surveys) == 0 && len(r.Forms) == 0 && r.Greetings == nil && r.AgentResponse == nil && r.CustomerCountries == nil
}

func listArchives(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		listArgs
		Highlights *struct {
			PreTag  *string `json:"pre_tag"`
			PostTag *string `json:"post_tag"`
		} `json:"highlights"`
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	p, err := req.resolve(10, 100)
	if err != nil {
		return nil, err
	}
	var fr archiveFiltersReq
	if len(p.Filters) > 0 && string(p.Filters) != "null" {
		if err := json.Unmarshal(p.Filters, &fr); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "filters are not valid")
		}
	}
	if len(fr.ThreadIDs) > 0 && req.PageID != "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "filters.thread_ids cannot be paginated")
	}
	f, err := fr.core()
	if err != nil {
		return nil, err
	}
	f.Asc = p.Asc
	if h := req.Highlights; h != nil {
		f.Highlight = &livechat.HighlightTags{Pre: "<em>", Post: "</em>"}
		if h.PreTag != nil {
			f.Highlight.Pre = *h.PreTag
		}
		if h.PostTag != nil {
			f.Highlight.Post = *h.PostTag
		}
	}
	hits, total, err := c.Svc.ListArchives(ctx, c.Actor, f, p.Offset, p.Limit)
	if err != nil {
		return nil, err
	}
	chats := make([]M, 0, len(hits))
	for i := range hits {
		h := &hits[i]
		chat, err := Chat(ctx, c.Svc, c.Actor, &livechat.ChatView{Chat: h.Chat, Thread: h.Thread, Events: h.Events}, c.Version)
		if err != nil {
			return nil, err
		}
		if thread, ok := chat["thread"].(M); ok {
			if c.Version >= "3.4" {
				optional(thread, "previous_accessible_thread_id", h.PreviousAccessibleThreadID)
				optional(thread, "next_accessible_thread_id", h.NextAccessibleThreadID)
			}
			if len(h.Highlights) > 0 {
				hl := make([]M, 0, len(h.Highlights))
				for _, x := range h.Highlights {
					hl = append(hl, M{"type": x.Type, "field": x.Field, "highlight": x.Text})
				}
				thread["highlight"] = hl
			}
		}
		chats = append(chats, chat)
	}
	out := M{"chats": chats, "found_chats": total}
	p.links(out, total)
	return out, nil
}
