package livechat

import (
	"context"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Chat operations the Customer Chat API adds to the shared ones.

// ResumeOptions are the chat fields a resume_chat may change before the new
// thread opens.
type ResumeOptions struct {
	// Access replaces the chat's access groups.
	Access *Access
	// Properties are merged into the chat's properties.
	Properties Properties
	// Continuous, when set, changes whether the chat is continuous.
	Continuous *bool
}

// ResumeChatWith opens a new thread in an inactive chat (ResumeChat) after
// applying opts to the chat, as the Customer Chat API's resume_chat does:
// the chat's customer may pick its groups and set its properties. The
// incoming_chat that announces the thread shows the chat as changed; agents
// who gain or lose access hear chat_access_updated, the chat's users
// chat_properties_updated.
func (s *Service) ResumeChatWith(ctx context.Context, actor Actor, chatID string, opts ResumeOptions, in ThreadInput, active bool) (*ChatView, error) {
	if opts.Access == nil && len(opts.Properties) == 0 && opts.Continuous == nil {
		return s.ResumeChat(ctx, actor, chatID, in, active)
	}
	if err := validateProperties(opts.Properties); err != nil {
		return nil, err
	}
	if err := s.checkPropertyWrite(ctx, actor, PropertyLocationChat, opts.Properties); err != nil { // config_properties.go
		return nil, err
	}
	if opts.Access != nil {
		if err := s.checkGroups(ctx, opts.Access.GroupIDs); err != nil {
			return nil, err
		}
	}
	var before []Topic
	var chat *Chat
	accessChanged := false
	err := s.withChat(ctx, actor, chatID, func(c *Chat) error {
		if c.Active() {
			return Errorf(TypeValidation, "Chat is already active")
		}
		if !actor.IsSystem() && c.User(actor.ID) == nil && !actor.IsManager() {
			return Errorf(TypeAuthorization, "Requester is not a user of this chat")
		}
		before = chatTopics(c, true)
		if opts.Access != nil && !sameGroups(c.Access.GroupIDs, opts.Access.GroupIDs) {
			c.Access = Access{GroupIDs: slices.Clone(opts.Access.GroupIDs)}
			accessChanged = true
		}
		if len(opts.Properties) > 0 {
			c.Properties = mergeProperties(c.Properties, opts.Properties)
		}
		if opts.Continuous != nil {
			c.Continuous = *opts.Continuous
		}
		chat = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if accessChanged {
		topics := append(before, chatTopics(chat, true)...)
		s.emit(ctx, &DomainEvent{Kind: KindChatAccessUpdated, ChatID: chatID, RequesterID: actor.ID, Topics: topics, AgentsOnly: true, Data: AccessData{Access: chat.Access}})
	}
	if len(opts.Properties) > 0 {
		s.emit(ctx, &DomainEvent{Kind: KindChatPropertiesUpdated, ChatID: chatID, RequesterID: actor.ID, Topics: chatTopics(chat, false), Data: PropertiesData{Properties: opts.Properties}})
	}
	return s.ResumeChat(ctx, actor, chatID, in, active)
}

// SendSneakPeek shows the chat's agents what the customer is typing
// (send_sneak_peek). Nothing is stored and customers hear nothing; the
// chat's agents and followers get incoming_sneak_peek. The requester must be
// the chat's customer and the chat active.
func (s *Service) SendSneakPeek(ctx context.Context, actor Actor, chatID, text string) error {
	if !actor.IsCustomer() {
		return Errorf(TypeAuthorization, "Only customers send sneak peeks")
	}
	if len(text) > MaxMessageText || !utf8.ValidString(text) {
		return Errorf(TypeValidation, "sneak_peek_text must be valid UTF-8 of at most 16 KB")
	}
	c, err := s.readChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	if c.User(actor.ID) == nil {
		return Errorf(TypeAuthorization, "Requester is not a user of this chat")
	}
	if !c.Active() {
		return Errorf(TypeChatInactive, "Chat is inactive")
	}
	var topics []Topic // the chat's agents and followers, not its groups
	for _, t := range chatTopics(c, true) {
		if !strings.HasPrefix(string(t), "group:") {
			topics = append(topics, t)
		}
	}
	s.emit(ctx, &DomainEvent{Kind: KindIncomingSneakPeek, ChatID: c.ID, ThreadID: c.ActiveThreadID, RequesterID: actor.ID, Topics: topics, AgentsOnly: true,
		Data: SneakPeekData{AuthorID: actor.ID, Text: text, Timestamp: s.now()}})
	return nil
}

// CustomerLicenseProperties returns the license properties customers may
// read (list_license_properties of the Customer Chat API): values with their
// definitions' defaults, of one namespace and name prefix when given, minus
// those whose definition gives customers no read access at the license
// location. Values without a definition (free-form) are readable.
func (s *Service) CustomerLicenseProperties(ctx context.Context, namespace, prefix string) (Properties, error) {
	p, err := s.loadPropertyValues(ctx, licensePropertiesKey)
	if err != nil {
		return nil, err
	}
	if p, err = s.withDefaults(ctx, PropertyLocationLicense, p, namespace, prefix); err != nil {
		return nil, err
	}
	return s.customerReadable(ctx, PropertyLocationLicense, p)
}

// CustomerGroupProperties is CustomerLicenseProperties for one group's
// properties (list_group_properties); group_not_found for an unknown group.
func (s *Service) CustomerGroupProperties(ctx context.Context, groupID int, namespace, prefix string) (Properties, error) {
	if err := s.checkGroups(ctx, []int{groupID}); err != nil {
		return nil, err
	}
	p, err := s.loadPropertyValues(ctx, groupPropertiesKey(groupID))
	if err != nil {
		return nil, err
	}
	if p, err = s.withDefaults(ctx, PropertyLocationGroup, p, namespace, prefix); err != nil {
		return nil, err
	}
	return s.customerReadable(ctx, PropertyLocationGroup, p)
}

// customerReadable keeps the values of p customers may read at loc.
func (s *Service) customerReadable(ctx context.Context, loc string, p Properties) (Properties, error) {
	defs, err := s.propertyDefs(ctx, slices.Collect(maps.Keys(p)))
	if err != nil {
		return nil, err
	}
	out := Properties{}
	for ns, vals := range p {
		for name, v := range vals {
			if d := defs[ns][name]; d != nil && !slices.Contains(d.Access[loc][UserCustomer], PropertyRead) {
				continue
			}
			if out[ns] == nil {
				out[ns] = map[string]any{}
			}
			out[ns][name] = v
		}
	}
	return out, nil
}
