package livechat

import (
	"context"
	"errors"
	"strings"
)

// CreateGroup creates a group with the next free id. Managers only.
func (s *Service) CreateGroup(ctx context.Context, actor Actor, name, languageCode string) (*Group, error) {
	if !actor.IsManager() {
		return nil, Errorf(TypeAuthorization, "Only owners and administrators can create groups")
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 180 {
		return nil, Errorf(TypeValidation, "group name must be 1 to 180 characters")
	}
	g, err := s.insertGroup(ctx, name, languageCode)
	if err != nil {
		return nil, err
	}
	s.emit(ctx, &DomainEvent{Kind: KindGroupCreated, RequesterID: actor.ID, Topics: []Topic{OrgTopic}, AgentsOnly: true, Data: GroupData{Group: g}})
	return g, nil
}

// insertGroup stores a new group with the next free id.
func (s *Service) insertGroup(ctx context.Context, name, languageCode string) (*Group, error) {
	if languageCode == "" {
		languageCode = "en"
	}
	last, err := s.store.Groups().Find(ctx, Query{Sort: "_id", Desc: true, Limit: 1})
	if err != nil {
		return nil, err
	}
	next := 1
	if len(last) > 0 {
		next = last[0].ID + 1
	}
	// config_groups.go: the ids of deleted groups are not reused.
	next = max(next, s.deletedGroupFloor(ctx)+1)
	for range 5 { // another instance may take the id first: unique _id inserts settle it
		g := &Group{ID: next, Name: name, LanguageCode: languageCode, CreatedAt: s.now()}
		err := s.store.Groups().Insert(ctx, g)
		if err == nil {
			return g, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		next++
	}
	return nil, Errorf(TypeInternal, "could not allocate a group id")
}

// ListGroups lists every group by id. Agents only.
func (s *Service) ListGroups(ctx context.Context, actor Actor) ([]Group, error) {
	if actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Customers cannot list groups")
	}
	return s.store.Groups().Find(ctx, Query{Sort: "_id"})
}
