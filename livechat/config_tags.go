package livechat

import (
	"context"
	"slices"
	"strings"
)

// Tags (Configuration API 3.5). A tag belongs to groups; group 0 (or no
// group) makes it available to every thread.
//
// Tagging rule: while the organization has no tag configured, threads may
// carry any tag (free tagging, chatbridge's behaviour before the
// Configuration API, and what a fresh server keeps). Once at least one tag
// exists, tag_thread and start_chat/resume_chat thread tags must name an
// existing tag (exact case) that shares a group with the thread's access,
// as LiveChat requires; otherwise the request fails with validation.
// Removing a tag from a thread is always allowed.

// MaxTagName bounds a tag name.
const MaxTagName = 128

func normalizeTagGroups(ids []int) []int {
	if len(ids) == 0 {
		return []int{0}
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Service) checkTagInput(ctx context.Context, actor Actor, name string, groupIDs []int) error {
	if !actor.IsManager() {
		return Errorf(TypeAuthorization, "Only owners and administrators can change tags")
	}
	if name == "" || len(name) > MaxTagName || strings.TrimSpace(name) != name {
		return Errorf(TypeValidation, "tag name must be 1 to %d characters without surrounding spaces", MaxTagName)
	}
	if len(groupIDs) > 200 {
		return Errorf(TypeValidation, "group_ids holds at most 200 groups")
	}
	if len(groupIDs) > 0 {
		return s.checkGroups(ctx, groupIDs)
	}
	return nil
}

// CreateTag creates a tag (create_tag); a tag whose name differs only in case
// already exists. Managers only.
func (s *Service) CreateTag(ctx context.Context, actor Actor, name string, groupIDs []int) (*Tag, error) {
	if err := s.checkTagInput(ctx, actor, name, groupIDs); err != nil {
		return nil, err
	}
	t := &Tag{ID: name, GroupIDs: normalizeTagGroups(groupIDs), AuthorID: actor.ID, CreatedAt: s.now()}
	unlock := s.locks.lock("tags")
	all, err := s.store.Tags().Find(ctx, Query{})
	if err == nil && slices.ContainsFunc(all, func(x Tag) bool { return strings.EqualFold(x.ID, name) }) {
		err = Errorf(TypeAlreadyExists, "Tag %q already exists", name)
	}
	if err == nil {
		if err = s.store.Tags().Insert(ctx, t); err != nil {
			err = AsError(err)
		}
	}
	unlock()
	if err != nil {
		return nil, err
	}
	s.emitConfig(ctx, actor, KindTagCreated, TagConfigData{Tag: t})
	return t, nil
}

// UpdateTag replaces a tag's groups (update_tag; the name matches exactly).
// Managers only.
func (s *Service) UpdateTag(ctx context.Context, actor Actor, name string, groupIDs []int) (*Tag, error) {
	if err := s.checkTagInput(ctx, actor, name, groupIDs); err != nil {
		return nil, err
	}
	unlock := s.locks.lock("tags")
	t, err := s.store.Tags().Get(ctx, name)
	if err == nil {
		t.GroupIDs = normalizeTagGroups(groupIDs)
		err = s.store.Tags().Replace(ctx, name, t)
	}
	unlock()
	if err != nil {
		return nil, storeErr(err, "Tag")
	}
	s.emitConfig(ctx, actor, KindTagUpdated, TagConfigData{Tag: t})
	return t, nil
}

// DeleteTag deletes a tag (delete_tag; the name matches exactly). Threads
// keep it. Managers only.
func (s *Service) DeleteTag(ctx context.Context, actor Actor, name string) error {
	if !actor.IsManager() {
		return Errorf(TypeAuthorization, "Only owners and administrators can change tags")
	}
	if name == "" {
		return Errorf(TypeValidation, "name is required")
	}
	unlock := s.locks.lock("tags")
	err := s.store.Tags().Delete(ctx, name)
	unlock()
	if err != nil {
		return storeErr(err, "Tag")
	}
	s.emitConfig(ctx, actor, KindTagDeleted, TagConfigData{Tag: &Tag{ID: name}})
	return nil
}

// ListTags lists tags by name, of any of groupIDs when given (tags of group
// 0 belong to every group). Agents only.
func (s *Service) ListTags(ctx context.Context, actor Actor, groupIDs []int) ([]Tag, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list tags")
	}
	all, err := s.store.Tags().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, t := range all {
		if len(groupIDs) == 0 || slices.Contains(t.GroupIDs, 0) || groupsMeet(t.GroupIDs, groupIDs) {
			out = append(out, t)
		}
	}
	return out, nil
}

// tagChecker checks thread tags against the configured tags; loaded once
// per operation.
type tagChecker struct {
	tags map[string]Tag
}

func (s *Service) loadTagChecker(ctx context.Context) (*tagChecker, error) {
	all, err := s.store.Tags().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	tc := &tagChecker{tags: make(map[string]Tag, len(all))}
	for _, t := range all {
		tc.tags[t.ID] = t
	}
	return tc, nil
}

// check says whether a thread with access may carry tag (see the rule above).
func (tc *tagChecker) check(tag string, access Access) error {
	if len(tc.tags) == 0 {
		return nil
	}
	t, ok := tc.tags[tag]
	if !ok {
		return Errorf(TypeValidation, "Tag %q does not exist", tag)
	}
	if len(t.GroupIDs) == 0 || slices.Contains(t.GroupIDs, 0) || groupsMeet(t.GroupIDs, access.GroupIDs) {
		return nil
	}
	return Errorf(TypeValidation, "Tag %q is not available in the thread's groups", tag)
}

// checkThreadTags checks the tags a new thread starts with.
func (s *Service) checkThreadTags(ctx context.Context, tags []string, access Access) error {
	if len(tags) == 0 {
		return nil
	}
	tc, err := s.loadTagChecker(ctx)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if err := tc.check(t, access); err != nil {
			return err
		}
	}
	return nil
}

// dropGroupFromTags removes a deleted group from every tag (a tag left with
// no group becomes a tag of group 0).
func (s *Service) dropGroupFromTags(ctx context.Context, actor Actor, groupID int) error {
	unlock := s.locks.lock("tags")
	all, err := s.store.Tags().Find(ctx, Query{})
	var changed []Tag
	for _, t := range all {
		if err != nil || !slices.Contains(t.GroupIDs, groupID) {
			continue
		}
		t.GroupIDs = normalizeTagGroups(slices.DeleteFunc(t.GroupIDs, func(g int) bool { return g == groupID }))
		if err = s.store.Tags().Replace(ctx, t.ID, &t); err == nil {
			changed = append(changed, t)
		}
	}
	unlock()
	for i := range changed {
		s.emitConfig(ctx, actor, KindTagUpdated, TagConfigData{Tag: &changed[i]})
	}
	return err
}
