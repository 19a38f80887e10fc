package livechat

import "context"

// Domain event kinds of the Configuration API. Every one goes to OrgTopic
// with AgentsOnly set: LiveChat pushes them to every agent session of the
// organization (3.4+) and webhooks deliver them as license webhooks.
// KindAgentCreated, KindAgentUpdated and KindGroupCreated live in domain.go.
const (
	// KindAgentDeleted: delete_agent. Data AgentIDData.
	KindAgentDeleted Kind = "agent_deleted"
	// KindAgentSuspended: suspend_agent. Data AgentIDData.
	KindAgentSuspended Kind = "agent_suspended"
	// KindAgentUnsuspended: unsuspend_agent. Data AgentIDData.
	KindAgentUnsuspended Kind = "agent_unsuspended"
	// KindAgentApproved: approve_agent. Data AgentIDData.
	KindAgentApproved Kind = "agent_approved"
	// KindBotCreated: create_bot (and create_bot_template). Data AgentData.
	KindBotCreated Kind = "bot_created"
	// KindBotUpdated: update_bot. Data AgentUpdatedData.
	KindBotUpdated Kind = "bot_updated"
	// KindBotDeleted: delete_bot. Data AgentIDData.
	KindBotDeleted Kind = "bot_deleted"
	// KindGroupUpdated: update_group. Data GroupUpdatedData.
	KindGroupUpdated Kind = "group_updated"
	// KindGroupDeleted: delete_group. Data GroupIDData.
	KindGroupDeleted Kind = "group_deleted"
	// KindAutoAccessesUpdated: add/update/delete_auto_access. Data AutoAccessesData.
	KindAutoAccessesUpdated Kind = "auto_accesses_updated"
	// KindTagCreated, KindTagUpdated: create_tag, update_tag. Data TagConfigData.
	KindTagCreated Kind = "tag_created"
	KindTagUpdated Kind = "tag_updated"
	// KindTagDeleted: delete_tag. Data TagConfigData (only the name is meaningful).
	KindTagDeleted Kind = "tag_deleted"
)

// AgentUpdatedData is the payload of KindAgentUpdated and KindBotUpdated
// emitted by update_agent / update_bot: the agent after the change and the
// wire names of the fields that changed (LiveChat sends id + changed fields).
type AgentUpdatedData struct {
	Agent   *Agent
	Changed []string
}

// AgentIDData is the payload of the agent and bot kinds that carry only an id.
type AgentIDData struct {
	ID string
}

// GroupUpdatedData is the payload of KindGroupUpdated: the group after the
// change, its agent priorities and the wire names of the changed fields.
type GroupUpdatedData struct {
	Group           *Group
	AgentPriorities map[string]string
	Changed         []string
}

// GroupIDData is the payload of KindGroupDeleted.
type GroupIDData struct {
	ID int
}

// AutoAccessChange is one entry of KindAutoAccessesUpdated: Status is added
// (Rule is the whole rule), updated (Rule holds the rule after the change,
// Changed names its changed fields) or deleted (only ID).
type AutoAccessChange struct {
	ID      string
	Status  string
	Rule    *AutoAccess
	Changed []string
}

// AutoAccessesData is the payload of KindAutoAccessesUpdated.
type AutoAccessesData struct {
	Changes []AutoAccessChange
}

// TagConfigData is the payload of the tag configuration kinds.
type TagConfigData struct {
	Tag *Tag
}

// emitConfig publishes a configuration change to every agent session.
func (s *Service) emitConfig(ctx context.Context, actor Actor, kind Kind, data any) {
	s.emit(ctx, &DomainEvent{Kind: kind, RequesterID: actor.ID, Topics: []Topic{OrgTopic}, AgentsOnly: true, Data: data})
}
