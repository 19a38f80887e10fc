package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

type stringFilterReq struct {
	Values        []string `json:"values"`
	ExcludeValues []string `json:"exclude_values"`
}

func (f *stringFilterReq) core() *livechat.StringFilter {
	if f == nil {
		return nil
	}
	return &livechat.StringFilter{Values: f.Values, ExcludeValues: f.ExcludeValues}
}

type intFilterReq struct {
	Values        []int `json:"values"`
	ExcludeValues []int `json:"exclude_values"`
}

type rangeFilterReq struct {
	LT  *int `json:"lt"`
	LTE *int `json:"lte"`
	GT  *int `json:"gt"`
	GTE *int `json:"gte"`
	EQ  *int `json:"eq"`
}

func (f *rangeFilterReq) core() *livechat.RangeFilter {
	if f == nil {
		return nil
	}
	return &livechat.RangeFilter{LT: f.LT, LTE: f.LTE, GT: f.GT, GTE: f.GTE, EQ: f.EQ}
}

type dateRangeFilterReq struct {
	LT  string `json:"lt"`
	LTE string `json:"lte"`
	GT  string `json:"gt"`
	GTE string `json:"gte"`
	EQ  string `json:"eq"`
}

func (f *dateRangeFilterReq) core(name string) (*livechat.TimeRangeFilter, error) {
	if f == nil {
		return nil, nil
	}
	out := &livechat.TimeRangeFilter{}
	for _, p := range []struct {
		s   string
		dst **time.Time
	}{{f.LT, &out.LT}, {f.LTE, &out.LTE}, {f.GT, &out.GT}, {f.GTE, &out.GTE}, {f.EQ, &out.EQ}} {
		if p.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.s)
		if err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "filters.%s must hold RFC 3339 times", name)
		}
		*p.dst = &t
	}
	return out, nil
}

type customerFiltersReq struct {
	Country                      *stringFilterReq    `json:"country"`
	Email                        *stringFilterReq    `json:"email"`
	Name                         *stringFilterReq    `json:"name"`
	CustomerID                   *stringFilterReq    `json:"customer_id"`
	ChatsCount                   *rangeFilterReq     `json:"chats_count"`
	ThreadsCount                 *rangeFilterReq     `json:"threads_count"`
	VisitsCount                  *rangeFilterReq     `json:"visits_count"`
	CreatedAt                    *dateRangeFilterReq `json:"created_at"`
	AgentLastEventCreatedAt      *dateRangeFilterReq `json:"agent_last_event_created_at"`
	CustomerLastEventCreatedAt   *dateRangeFilterReq `json:"customer_last_event_created_at"`
	ChatGroupIDs                 *intFilterReq       `json:"chat_group_ids"`
	IncludeCustomersWithoutChats *bool               `json:"include_customers_without_chats"`
}

// customerPage is what list_customers keeps in its page token's filters:
// the filters and the sort key of the first call.
type customerPage struct {
	Filters json.RawMessage `json:"filters,omitempty"`
	SortBy  string          `json:"sort_by,omitempty"`
}

func listCustomers(ctx context.Context, c *Call) (any, error) {
	req, err := decode[struct {
		listArgs
		SortBy string `json:"sort_by"`
		Order  string `json:"order"` // the 3.1 name of sort_order
	}](c.Payload)
	if err != nil {
		return nil, err
	}
	if req.SortOrder == "" {
		req.SortOrder = req.Order
	}
	if req.PageID != "" && req.SortBy != "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "page_id cannot be combined with sort_by")
	}
	args := req.listArgs
	if args.PageID == "" {
		b, _ := json.Marshal(customerPage{Filters: req.Filters, SortBy: req.SortBy})
		args.Filters = b
	}
	p, err := args.resolve(10, 100)
	if err != nil {
		return nil, err
	}
	var state customerPage
	if len(p.Filters) > 0 && json.Unmarshal(p.Filters, &state) != nil {
		return nil, livechat.Errorf(livechat.TypeValidation, "page_id is not valid")
	}
	var fr customerFiltersReq
	if len(state.Filters) > 0 && string(state.Filters) != "null" {
		if err := json.Unmarshal(state.Filters, &fr); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "filters are not valid")
		}
	}
	f := livechat.CustomerFilter{
		Name: fr.Name.core(), Email: fr.Email.core(), CustomerID: fr.CustomerID.core(), Country: fr.Country.core(),
		ChatsCount: fr.ChatsCount.core(), ThreadsCount: fr.ThreadsCount.core(), VisitsCount: fr.VisitsCount.core(),
		ExcludeCustomersWithoutChats: fr.IncludeCustomersWithoutChats != nil && !*fr.IncludeCustomersWithoutChats,
		SortBy:                       state.SortBy, Asc: p.Asc,
	}
	if fr.ChatGroupIDs != nil {
		if len(fr.ChatGroupIDs.Values) > 40 || len(fr.ChatGroupIDs.ExcludeValues) > 40 {
			return nil, livechat.Errorf(livechat.TypeValidation, "filters.chat_group_ids holds at most 40 groups")
		}
		f.ChatGroupIDs = &livechat.IntFilter{Values: fr.ChatGroupIDs.Values, ExcludeValues: fr.ChatGroupIDs.ExcludeValues}
	}
	if f.CreatedAt, err = fr.CreatedAt.core("created_at"); err != nil {
		return nil, err
	}
	if f.AgentLastEvent, err = fr.AgentLastEventCreatedAt.core("agent_last_event_created_at"); err != nil {
		return nil, err
	}
	if f.CustomerLastEv, err = fr.CustomerLastEventCreatedAt.core("customer_last_event_created_at"); err != nil {
		return nil, err
	}
	all, err := c.Svc.ListCustomers(ctx, c.Actor, f)
	if err != nil {
		return nil, err
	}
	total := len(all)
	page := all[min(p.Offset, total):min(p.Offset+p.Limit, total)]
	customers := make([]M, 0, len(page))
	for i := range page {
		customers = append(customers, Customer(&page[i]))
	}
	out := M{"customers": customers, "total_customers": total}
	if c.Version >= "3.3" {
		out["limited_customers"] = 0
	}
	p.links(out, total)
	return out, nil
}
