package livechat

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"
)

// StringFilter keeps values that are (Values) or are not (ExcludeValues) in
// a list, compared without regard to case.
type StringFilter struct {
	Values        []string
	ExcludeValues []string
}

func (f *StringFilter) match(v string) bool {
	if f == nil {
		return true
	}
	in := func(list []string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
	}
	if len(f.Values) > 0 && !in(f.Values) {
		return false
	}
	return !in(f.ExcludeValues)
}

// IntFilter keeps values that are (Values) or are not (ExcludeValues) in a list.
type IntFilter struct {
	Values        []int
	ExcludeValues []int
}

// RangeFilter compares a number: every operator given must hold.
type RangeFilter struct {
	LT, LTE, GT, GTE, EQ *int
}

func (f *RangeFilter) match(v int) bool {
	if f == nil {
		return true
	}
	return (f.LT == nil || v < *f.LT) && (f.LTE == nil || v <= *f.LTE) && (f.GT == nil || v > *f.GT) &&
		(f.GTE == nil || v >= *f.GTE) && (f.EQ == nil || v == *f.EQ)
}

// TimeRangeFilter compares a time: every operator given must hold. A missing
// time matches no operator.
type TimeRangeFilter struct {
	LT, LTE, GT, GTE, EQ *time.Time
}

func (f *TimeRangeFilter) match(v *time.Time) bool {
	if f == nil {
		return true
	}
	if v == nil {
		return false
	}
	return (f.LT == nil || v.Before(*f.LT)) && (f.LTE == nil || !v.After(*f.LTE)) && (f.GT == nil || v.After(*f.GT)) &&
		(f.GTE == nil || !v.Before(*f.GTE)) && (f.EQ == nil || v.Equal(*f.EQ))
}

// Sort keys of ListCustomers.
const (
	CustomersByCreatedAt         = "created_at"
	CustomersByThreadsCount      = "threads_count"
	CustomersByVisitsCount       = "visits_count"
	CustomersByAgentLastEvent    = "agent_last_event"
	CustomersByCustomerLastEvent = "customer_last_event"
)

// CustomerFilter selects and orders customers for list_customers.
type CustomerFilter struct {
	Name, Email, CustomerID, Country          *StringFilter
	ChatsCount, ThreadsCount, VisitsCount     *RangeFilter
	CreatedAt, AgentLastEvent, CustomerLastEv *TimeRangeFilter
	// ChatGroupIDs keeps customers by the groups of their chats.
	ChatGroupIDs *IntFilter
	// ExcludeCustomersWithoutChats drops customers who never chatted
	// (include_customers_without_chats false).
	ExcludeCustomersWithoutChats bool
	// SortBy is one of the CustomersBy* keys (default created_at); ties go by
	// creation time, then id.
	SortBy string
	Asc    bool
}

// ListCustomers returns the customers matching f, in f's order. Agents only.
// Chatbridge keeps no visitor geolocation, so a Country filter with values
// matches nobody (and with exclude_values everybody).
func (s *Service) ListCustomers(ctx context.Context, actor Actor, f CustomerFilter) ([]Customer, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list customers")
	}
	switch f.SortBy {
	case "":
		f.SortBy = CustomersByCreatedAt
	case CustomersByCreatedAt, CustomersByThreadsCount, CustomersByVisitsCount, CustomersByAgentLastEvent, CustomersByCustomerLastEvent:
	default:
		return nil, Errorf(TypeValidation, "sort_by must be created_at, threads_count, visits_count, agent_last_event or customer_last_event")
	}
	all, err := s.store.Customers().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	var chatGroups map[string][]int
	if f.ChatGroupIDs != nil {
		chats, err := s.store.Chats().Find(ctx, Query{})
		if err != nil {
			return nil, err
		}
		chatGroups = map[string][]int{}
		for _, c := range chats {
			if c.CustomerID != "" {
				chatGroups[c.CustomerID] = append(chatGroups[c.CustomerID], c.Access.GroupIDs...)
			}
		}
	}
	out := all[:0]
	for _, c := range all {
		created := c.CreatedAt
		ok := f.Name.match(c.Name) && f.Email.match(c.Email) && f.CustomerID.match(c.ID) &&
			(f.Country == nil || len(f.Country.Values) == 0) &&
			f.ChatsCount.match(c.ChatsCount) && f.ThreadsCount.match(c.ThreadsCount) && f.VisitsCount.match(c.VisitsCount) &&
			f.CreatedAt.match(&created) && f.AgentLastEvent.match(c.AgentLastEventAt) && f.CustomerLastEv.match(c.CustomerLastEventAt) &&
			!(f.ExcludeCustomersWithoutChats && c.ChatsCount == 0)
		if ok && f.ChatGroupIDs != nil {
			groups := chatGroups[c.ID]
			ok = (len(f.ChatGroupIDs.Values) == 0 || groupsMeet(groups, f.ChatGroupIDs.Values)) &&
				!groupsMeet(groups, f.ChatGroupIDs.ExcludeValues)
		}
		if ok {
			out = append(out, c)
		}
	}
	key := func(c *Customer) (int64, bool) {
		switch f.SortBy {
		case CustomersByThreadsCount:
			return int64(c.ThreadsCount), true
		case CustomersByVisitsCount:
			return int64(c.VisitsCount), true
		case CustomersByAgentLastEvent:
			return timeKey(c.AgentLastEventAt)
		case CustomersByCustomerLastEvent:
			return timeKey(c.CustomerLastEventAt)
		}
		return c.CreatedAt.UnixNano(), true
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		ka, oka := key(a)
		kb, okb := key(b)
		if oka != okb { // customers without the key go last in either order
			return oka
		}
		if ka != kb {
			return (ka < kb) == f.Asc
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt) == f.Asc
		}
		return (a.ID < b.ID) == f.Asc
	})
	return out, nil
}

func timeKey(t *time.Time) (int64, bool) {
	if t == nil {
		return 0, false
	}
	return t.UnixNano(), true
}

// FollowCustomer makes the requester a follower of a customer (follow true)
// or stops that. Following announces the customer to the requester
// (incoming_customer) unless it already followed or chats with the customer;
// unfollowing announces customer_unfollowed. Agents who do not manage the
// organization may follow only customers of their groups.
func (s *Service) FollowCustomer(ctx context.Context, actor Actor, id string, follow bool) error {
	if !actor.IsAgent() {
		return Errorf(TypeAuthorization, "Only agents follow customers")
	}
	if id == "" {
		return Errorf(TypeValidation, "id is required")
	}
	cur, err := s.store.Customers().Get(ctx, id)
	if err != nil {
		return storeErr(err, "Customer")
	}
	if follow && !actor.IsManager() && len(cur.GroupIDs) > 0 && !groupsMeet(actor.Agent.GroupIDs(), cur.GroupIDs) {
		return Errorf(TypeMissingAccess, "Missing access to customer %s", id)
	}
	was := false
	c, err := s.updateCustomer(ctx, id, func(c *Customer) error {
		was = slices.Contains(c.Followers, actor.ID)
		if follow {
			c.Followers = addUnique(c.Followers, actor.ID)
		} else {
			c.Followers = slices.DeleteFunc(c.Followers, func(x string) bool { return x == actor.ID })
		}
		return nil
	})
	if err != nil {
		return err
	}
	me := []Topic{AgentTopic(actor.ID)}
	switch {
	case follow && !was:
		chatting, err := s.store.Chats().Count(ctx, Where(Eq("customer_id", id), Eq("users.id", actor.ID), Cond{Field: "active_thread_id", Op: OpNe, Value: ""}))
		if err != nil {
			return err
		}
		if chatting == 0 {
			s.emit(ctx, &DomainEvent{Kind: KindIncomingCustomer, RequesterID: actor.ID, Topics: me, Data: CustomerData{Customer: c}})
		}
	case !follow && was:
		s.emit(ctx, &DomainEvent{Kind: KindCustomerUnfollowed, RequesterID: actor.ID, Topics: me, Data: CustomerData{Customer: c}})
	}
	return nil
}
