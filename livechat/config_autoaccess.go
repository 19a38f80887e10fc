package livechat

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Auto access: an ordered list of rules that give a customer's future chats
// their access groups from the page the customer is on (LiveChat 3.3+).
//
// The rules are kept as one Setting (autoAccessKey) holding the ordered list
// as JSON, written under one in-process lock, so the order (LiveChat links
// the rules by next_id) is always one consistent list.
//
// Applying them: when a customer starts a chat without chat.access, the
// first rule matching the customer's current page (the last page of its last
// visit, the one opened last, which update_customer_page records) gives the chat its access
// groups, before the customer's own groups are considered. Geolocation
// conditions match only when the caller knows the customer's location
// (MatchAutoAccess), which chat start does not, so rules with a geolocation
// condition do not apply there.

const autoAccessKey = "auto_accesses"

// maxAutoAccesses bounds the rule list.
const maxAutoAccesses = 500

// AutoAccessMatch is one value a url or domain condition compares with:
// a substring unless ExactMatch. Comparison ignores case.
type AutoAccessMatch struct {
	Value      string `json:"value"`
	ExactMatch bool   `json:"exact_match"`
}

// AutoAccessValues is a url or domain condition: it holds when any of
// Values matches, or (with ExcludeValues) when none of ExcludeValues does.
type AutoAccessValues struct {
	Values        []AutoAccessMatch `json:"values,omitempty"`
	ExcludeValues []AutoAccessMatch `json:"exclude_values,omitempty"`
}

// GeoLocation is a place; in a condition, empty fields match anything.
type GeoLocation struct {
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	Region      string `json:"region,omitempty"`
	City        string `json:"city,omitempty"`
}

// GeoCondition holds when any of its places matches.
type GeoCondition struct {
	Values []GeoLocation `json:"values"`
}

// AutoAccessConditions are a rule's conditions; every given one must hold.
type AutoAccessConditions struct {
	URL         *AutoAccessValues `json:"url,omitempty"`
	Domain      *AutoAccessValues `json:"domain,omitempty"`
	Geolocation *GeoCondition     `json:"geolocation,omitempty"`
}

// AutoAccessGroups is the access a rule grants.
type AutoAccessGroups struct {
	Groups []int `json:"groups"`
}

// AutoAccess is one rule. NextID is filled on reads: the id of the rule after
// it, "" for the last.
type AutoAccess struct {
	ID          string               `json:"id"`
	Description string               `json:"description,omitempty"`
	Access      AutoAccessGroups     `json:"access"`
	Conditions  AutoAccessConditions `json:"conditions"`
	NextID      string               `json:"next_id"`
}

// AutoAccessUpdate changes a rule; nil fields stay. NextID moves the rule
// before that rule ("" moves it to the end).
type AutoAccessUpdate struct {
	Description *string
	Access      *AutoAccessGroups
	Conditions  *AutoAccessConditions
	NextID      *string
}

func (s *Service) validateAutoAccess(ctx context.Context, r *AutoAccess) error {
	if len(r.Description) > 1000 {
		return Errorf(TypeValidation, "description is too long")
	}
	if len(r.Access.Groups) == 0 || len(r.Access.Groups) > 200 {
		return Errorf(TypeValidation, "access.groups must hold 1 to 200 groups")
	}
	if err := s.checkGroups(ctx, r.Access.Groups); err != nil {
		return err
	}
	c := r.Conditions
	if c.URL == nil && c.Domain == nil && c.Geolocation == nil {
		return Errorf(TypeValidation, "conditions need at least one of url, domain, geolocation")
	}
	for name, v := range map[string]*AutoAccessValues{"url": c.URL, "domain": c.Domain} {
		if v == nil {
			continue
		}
		if (len(v.Values) == 0) == (len(v.ExcludeValues) == 0) {
			return Errorf(TypeValidation, "conditions.%s needs either values or exclude_values", name)
		}
		for _, m := range append(slices.Clone(v.Values), v.ExcludeValues...) {
			if m.Value == "" || len(m.Value) > 2048 {
				return Errorf(TypeValidation, "conditions.%s values must be 1 to 2048 characters", name)
			}
		}
	}
	if g := c.Geolocation; g != nil {
		if len(g.Values) == 0 {
			return Errorf(TypeValidation, "conditions.geolocation.values is required")
		}
		for _, p := range g.Values {
			if p == (GeoLocation{}) {
				return Errorf(TypeValidation, "conditions.geolocation values need at least one field")
			}
		}
	}
	return nil
}

func (s *Service) loadAutoAccesses(ctx context.Context) ([]AutoAccess, error) {
	st, err := s.store.Settings().Get(ctx, autoAccessKey)
	if errors.Is(err, ErrNotFound) {
		return []AutoAccess{}, nil
	}
	if err != nil {
		return nil, err
	}
	raw, _ := st.Value.(string)
	var rules []AutoAccess
	if err := json.Unmarshal([]byte(raw), &rules); err != nil {
		return nil, err
	}
	return rules, nil
}

func (s *Service) saveAutoAccesses(ctx context.Context, rules []AutoAccess) error {
	for i := range rules {
		rules[i].NextID = ""
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	return s.putSetting(ctx, autoAccessKey, string(b))
}

// putSetting writes (inserts or replaces) one setting.
func (s *Service) putSetting(ctx context.Context, key string, value any) error {
	st := &Setting{ID: key, Value: value, UpdatedAt: s.now()}
	err := s.store.Settings().Replace(ctx, key, st)
	if errors.Is(err, ErrNotFound) {
		err = s.store.Settings().Insert(ctx, st)
	}
	return err
}

// linkAutoAccesses fills NextID from the order.
func linkAutoAccesses(rules []AutoAccess) []AutoAccess {
	for i := range rules {
		rules[i].NextID = ""
		if i+1 < len(rules) {
			rules[i].NextID = rules[i+1].ID
		}
	}
	return rules
}

// insertBefore puts r before the rule nextID ("" appends).
func insertBefore(rules []AutoAccess, r AutoAccess, nextID string) ([]AutoAccess, error) {
	if nextID == "" {
		return append(rules, r), nil
	}
	i := slices.IndexFunc(rules, func(x AutoAccess) bool { return x.ID == nextID })
	if i < 0 {
		return nil, Errorf(TypeValidation, "next_id %q is not a rule", nextID)
	}
	return slices.Insert(rules, i, r), nil
}

// changeAutoAccesses runs a manager's read-modify-write of the rule list.
func (s *Service) changeAutoAccesses(ctx context.Context, actor Actor, change func([]AutoAccess) ([]AutoAccess, AutoAccessChange, error)) (AutoAccessChange, error) {
	if !actor.IsManager() {
		return AutoAccessChange{}, Errorf(TypeAuthorization, "Only owners and administrators can change auto access rules")
	}
	unlock := s.locks.lock("setting:" + autoAccessKey)
	rules, err := s.loadAutoAccesses(ctx)
	if err != nil {
		unlock()
		return AutoAccessChange{}, err
	}
	rules, ch, err := change(rules)
	if err == nil {
		err = s.saveAutoAccesses(ctx, rules)
	}
	unlock()
	if err != nil {
		return AutoAccessChange{}, err
	}
	if ch.Rule != nil {
		linked := linkAutoAccesses(rules)
		if i := slices.IndexFunc(linked, func(x AutoAccess) bool { return x.ID == ch.ID }); i >= 0 {
			r := linked[i]
			ch.Rule = &r
		}
	}
	s.emitConfig(ctx, actor, KindAutoAccessesUpdated, AutoAccessesData{Changes: []AutoAccessChange{ch}})
	return ch, nil
}

// AddAutoAccess adds a rule before nextID (at the end when empty) and
// returns its id (add_auto_access). Managers only.
func (s *Service) AddAutoAccess(ctx context.Context, actor Actor, r AutoAccess, nextID string) (string, error) {
	r.ID = NewID()
	if err := s.validateAutoAccess(ctx, &r); err != nil {
		return "", err
	}
	_, err := s.changeAutoAccesses(ctx, actor, func(rules []AutoAccess) ([]AutoAccess, AutoAccessChange, error) {
		if len(rules) >= maxAutoAccesses {
			return nil, AutoAccessChange{}, Errorf(TypeLimitReached, "At most %d auto access rules", maxAutoAccesses)
		}
		out, err := insertBefore(rules, r, nextID)
		return out, AutoAccessChange{ID: r.ID, Status: "added", Rule: &r}, err
	})
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

// UpdateAutoAccess changes a rule (update_auto_access). Managers only.
func (s *Service) UpdateAutoAccess(ctx context.Context, actor Actor, id string, u AutoAccessUpdate) error {
	_, err := s.changeAutoAccesses(ctx, actor, func(rules []AutoAccess) ([]AutoAccess, AutoAccessChange, error) {
		i := slices.IndexFunc(rules, func(x AutoAccess) bool { return x.ID == id })
		if i < 0 {
			return nil, AutoAccessChange{}, notFound("Auto access")
		}
		r := rules[i]
		var changed []string
		if u.Description != nil {
			r.Description, changed = *u.Description, append(changed, "description")
		}
		if u.Access != nil {
			r.Access, changed = *u.Access, append(changed, "access")
		}
		if u.Conditions != nil {
			r.Conditions, changed = *u.Conditions, append(changed, "conditions")
		}
		if err := s.validateAutoAccess(ctx, &r); err != nil {
			return nil, AutoAccessChange{}, err
		}
		rules[i] = r
		if u.NextID != nil {
			if *u.NextID == id {
				return nil, AutoAccessChange{}, Errorf(TypeValidation, "next_id cannot be the rule itself")
			}
			rules = slices.Delete(rules, i, i+1)
			var err error
			if rules, err = insertBefore(rules, r, *u.NextID); err != nil {
				return nil, AutoAccessChange{}, err
			}
			changed = append(changed, "next_id")
		}
		return rules, AutoAccessChange{ID: id, Status: "updated", Rule: &r, Changed: changed}, nil
	})
	return err
}

// DeleteAutoAccess removes a rule (delete_auto_access). Managers only.
func (s *Service) DeleteAutoAccess(ctx context.Context, actor Actor, id string) error {
	_, err := s.changeAutoAccesses(ctx, actor, func(rules []AutoAccess) ([]AutoAccess, AutoAccessChange, error) {
		i := slices.IndexFunc(rules, func(x AutoAccess) bool { return x.ID == id })
		if i < 0 {
			return nil, AutoAccessChange{}, notFound("Auto access")
		}
		return slices.Delete(rules, i, i+1), AutoAccessChange{ID: id, Status: "deleted"}, nil
	})
	return err
}

// ListAutoAccesses lists the rules in order (list_auto_accesses). Agents only.
func (s *Service) ListAutoAccesses(ctx context.Context, actor Actor) ([]AutoAccess, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list auto access rules")
	}
	rules, err := s.loadAutoAccesses(ctx)
	if err != nil {
		return nil, err
	}
	return linkAutoAccesses(rules), nil
}

// MatchAutoAccess returns the groups of the first rule matching a customer on
// pageURL at geo (nil when unknown), or nil when no rule matches. The
// Customer API calls it on login and update_customer_page.
func (s *Service) MatchAutoAccess(ctx context.Context, pageURL string, geo *GeoLocation) ([]int, error) {
	rules, err := s.loadAutoAccesses(ctx)
	if err != nil || len(rules) == 0 {
		return nil, err
	}
	host := ""
	if u, err := url.Parse(pageURL); err == nil {
		host = u.Hostname()
	}
	for _, r := range rules {
		c := r.Conditions
		if c.URL != nil && !c.URL.holds(pageURL) {
			continue
		}
		if c.Domain != nil && !c.Domain.holds(host) {
			continue
		}
		if c.Geolocation != nil && !c.Geolocation.holds(geo) {
			continue
		}
		return slices.Clone(r.Access.Groups), nil
	}
	return nil, nil
}

func (v *AutoAccessValues) holds(s string) bool {
	if s == "" {
		return false
	}
	match := func(ms []AutoAccessMatch) bool {
		return slices.ContainsFunc(ms, func(m AutoAccessMatch) bool {
			if m.ExactMatch {
				return strings.EqualFold(s, m.Value)
			}
			return strings.Contains(strings.ToLower(s), strings.ToLower(m.Value))
		})
	}
	if len(v.Values) > 0 {
		return match(v.Values)
	}
	return !match(v.ExcludeValues)
}

func (g *GeoCondition) holds(at *GeoLocation) bool {
	if at == nil {
		return false
	}
	field := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	return slices.ContainsFunc(g.Values, func(p GeoLocation) bool {
		return field(p.Country, at.Country) && field(p.CountryCode, at.CountryCode) && field(p.Region, at.Region) && field(p.City, at.City)
	})
}

// autoAccessForCustomer is the access auto access gives a chat the customer
// starts now, from its current page; nil when no rule applies.
func (s *Service) autoAccessForCustomer(ctx context.Context, c *Customer) []int {
	if c.LastVisit == nil || len(c.LastVisit.LastPages) == 0 {
		return nil
	}
	last := slices.MaxFunc(c.LastVisit.LastPages, func(a, b Page) int { return a.OpenedAt.Compare(b.OpenedAt) })
	page := last.URL
	groups, err := s.MatchAutoAccess(ctx, page, nil)
	if err != nil {
		s.log.Warn("auto access", "customer_id", c.ID, "err", err)
		return nil
	}
	return groups
}

// dropGroupFromAutoAccesses removes a deleted group from every rule, and the
// rules it leaves without groups.
func (s *Service) dropGroupFromAutoAccesses(ctx context.Context, actor Actor, groupID int) error {
	rules, err := s.loadAutoAccesses(ctx)
	if err != nil || !slices.ContainsFunc(rules, func(r AutoAccess) bool { return slices.Contains(r.Access.Groups, groupID) }) {
		return err
	}
	var changes []AutoAccessChange
	unlock := s.locks.lock("setting:" + autoAccessKey)
	if rules, err = s.loadAutoAccesses(ctx); err != nil {
		unlock()
		return err
	}
	kept := rules[:0]
	for _, r := range rules {
		if !slices.Contains(r.Access.Groups, groupID) {
			kept = append(kept, r)
			continue
		}
		r.Access.Groups = slices.DeleteFunc(r.Access.Groups, func(g int) bool { return g == groupID })
		if len(r.Access.Groups) == 0 {
			changes = append(changes, AutoAccessChange{ID: r.ID, Status: "deleted"})
			continue
		}
		kept = append(kept, r)
		rc := r
		changes = append(changes, AutoAccessChange{ID: r.ID, Status: "updated", Rule: &rc, Changed: []string{"access"}})
	}
	err = s.saveAutoAccesses(ctx, kept)
	unlock()
	if err != nil {
		return err
	}
	s.emitConfig(ctx, actor, KindAutoAccessesUpdated, AutoAccessesData{Changes: changes})
	return nil
}
