package livechat

import (
	"context"
	"slices"
	"strings"
)

// GrantChatAccess adds a group to a chat's access (grant_chat_access,
// 3.2–3.3). Granting a group the chat already has changes nothing. Pushes:
// chat_access_granted with the added group (≤3.3) and chat_access_updated
// with the full access (3.4+ sessions), to the old and new audiences.
func (s *Service) GrantChatAccess(ctx context.Context, actor Actor, chatID string, groupID int) error {
	return s.changeGroupAccess(ctx, actor, chatID, groupID, true)
}

// RevokeChatAccess takes a group from a chat's access, or an agent out of the
// chat (revoke_chat_access with access.type agent, 3.2–3.3). A chat keeps at
// least one group.
func (s *Service) RevokeChatAccess(ctx context.Context, actor Actor, chatID, accessType, id string) error {
	switch accessType {
	case TargetGroup:
		g, err := parseGroupID(id)
		if err != nil {
			return err
		}
		return s.changeGroupAccess(ctx, actor, chatID, g, false)
	case TargetAgent:
		if id == "" {
			return Errorf(TypeValidation, "access.id is required")
		}
		return s.RemoveUserFromChat(ctx, actor, chatID, strings.ToLower(id))
	}
	return Errorf(TypeValidation, "access.type must be group or agent")
}

func parseGroupID(id string) (int, error) {
	n := 0
	if id == "" || len(id) > 9 {
		return 0, Errorf(TypeValidation, "access.id must be a group id")
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return 0, Errorf(TypeValidation, "access.id must be a group id")
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

func (s *Service) changeGroupAccess(ctx context.Context, actor Actor, chatID string, groupID int, grant bool) error {
	if !actor.IsAgent() && !actor.IsSystem() {
		return Errorf(TypeAuthorization, "Only agents can change chat access")
	}
	if grant {
		if err := s.checkGroups(ctx, []int{groupID}); err != nil {
			return err
		}
	}
	var before []Topic
	var chat *Chat
	changed := false
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		before = chatTopics(c, true)
		has := slices.Contains(c.Access.GroupIDs, groupID)
		switch {
		case grant && !has:
			c.Access.GroupIDs = append(slices.Clone(c.Access.GroupIDs), groupID)
		case !grant && has:
			if len(c.Access.GroupIDs) == 1 {
				return Errorf(TypeValidation, "a chat keeps at least one group")
			}
			c.Access.GroupIDs = slices.DeleteFunc(slices.Clone(c.Access.GroupIDs), func(g int) bool { return g == groupID })
		case !grant:
			return Errorf(TypeValidation, "the chat has no access for group %d", groupID)
		default:
			chat = c
			return nil
		}
		changed, chat = true, c
		return s.syncThreadAccess(ctx, c)
	})
	if err != nil || !changed {
		return err
	}
	topics := append(before, chatTopics(chat, true)...)
	kind := KindChatAccessGranted
	if !grant {
		kind = KindChatAccessRevoked
	}
	s.emit(ctx, &DomainEvent{Kind: kind, ChatID: chatID, RequesterID: actor.ID, Topics: topics, AgentsOnly: true, Data: AccessData{Access: Access{GroupIDs: []int{groupID}}}})
	s.emit(ctx, &DomainEvent{Kind: KindChatAccessUpdated, ChatID: chatID, RequesterID: actor.ID, Topics: topics, AgentsOnly: true, Data: AccessData{Access: chat.Access}})
	return nil
}
