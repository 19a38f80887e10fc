package api

import (
	"context"

	"github.com/chatbridge/chatbridge/livechat"
)

// Configuration pushes (agent RTM 3.4+; 3.5 for tags). Their 3.5 payloads
// are also the payloads of the configuration webhooks of the same names.

// allAgentFields renders every agent field.
var allAgentFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range agentFields {
		m[f] = true
	}
	return m
}()

// agentFull is an agent as agent_created carries it: id, name, role,
// avatar, job_title, mobile, max_chats_count, awaiting_approval, groups,
// notifications, email_subscriptions, work_scheduler, login_status.
func agentFull(a *livechat.Agent, v string) M {
	out := ConfigAgent(a, v, allAgentFields)
	delete(out, "suspended")
	delete(out, "account_id")
	return out
}

// botFull is a bot as bot_created carries it.
func botFull(a *livechat.Agent, v string) M {
	out := ConfigBot(a, v, map[string]bool{"groups": true, "max_chats_count": true, "default_group_priority": true,
		"owner_client_id": true, "job_title": true, "work_scheduler": true, "timezone": true})
	if a.WorkScheduler == nil {
		delete(out, "work_scheduler")
	}
	return out
}

// changedOnly keeps id and the changed fields of full.
func changedOnly(full M, id any, changed []string) M {
	out := M{"id": id}
	for _, f := range changed {
		if v, ok := full[f]; ok {
			out[f] = v
		}
	}
	return out
}

func idPayload(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
	return M{"id": ev.Data.(livechat.AgentIDData).ID}, nil
}

func init() {
	AgentPushes[livechat.KindAgentCreated] = fixed("agent_created", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		return agentFull(ev.Data.(livechat.AgentData).Agent, v), nil
	})
	AgentPushes[livechat.KindAgentUpdated] = fixed("agent_updated", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		switch d := ev.Data.(type) {
		case livechat.AgentUpdatedData:
			return changedOnly(agentFull(d.Agent, v), d.Agent.ID, d.Changed), nil
		case livechat.AgentData:
			return agentFull(d.Agent, v), nil
		}
		return nil, nil
	})
	AgentPushes[livechat.KindAgentDeleted] = func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
		id := ev.Data.(livechat.AgentIDData).ID
		if v < "3.4" {
			return "agent_deleted", M{"agent_id": id}, nil
		}
		return "agent_deleted", M{"id": id}, nil
	}
	AgentPushes[livechat.KindAgentSuspended] = fixed("agent_suspended", "3.4", idPayload)
	AgentPushes[livechat.KindAgentUnsuspended] = fixed("agent_unsuspended", "3.4", idPayload)
	AgentPushes[livechat.KindAgentApproved] = fixed("agent_approved", "3.4", idPayload)
	AgentPushes[livechat.KindBotCreated] = fixed("bot_created", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		return botFull(ev.Data.(livechat.AgentData).Agent, v), nil
	})
	AgentPushes[livechat.KindBotUpdated] = fixed("bot_updated", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (any, error) {
		d := ev.Data.(livechat.AgentUpdatedData)
		full := botFull(d.Agent, v)
		changed := d.Changed
		for _, f := range changed {
			if f == "work_scheduler" && d.Agent.WorkScheduler != nil && d.Agent.WorkScheduler.Timezone != "" {
				changed = append(changed[:len(changed):len(changed)], "timezone")
				break
			}
		}
		return changedOnly(full, d.Agent.ID, changed), nil
	})
	AgentPushes[livechat.KindBotDeleted] = fixed("bot_deleted", "3.4", idPayload)
	AgentPushes[livechat.KindGroupCreated] = fixed("group_created", "3.4", func(ctx context.Context, svc *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		return ConfigGroup(ctx, svc, ev.Data.(livechat.GroupData).Group, map[string]bool{"agent_priorities": true})
	})
	AgentPushes[livechat.KindGroupUpdated] = fixed("group_updated", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		d := ev.Data.(livechat.GroupUpdatedData)
		full := M{"name": d.Group.Name, "language_code": d.Group.LanguageCode, "agent_priorities": d.AgentPriorities}
		return changedOnly(full, d.Group.ID, d.Changed), nil
	})
	AgentPushes[livechat.KindGroupDeleted] = fixed("group_deleted", "3.4", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
		return M{"id": ev.Data.(livechat.GroupIDData).ID}, nil
	})
	AgentPushes[livechat.KindAutoAccessesUpdated] = autoAccessesPush
	tag := func(name string, full bool) PushFunc {
		return fixed(name, "3.5", func(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, _ string) (any, error) {
			t := ev.Data.(livechat.TagConfigData).Tag
			if !full {
				return M{"name": t.ID}, nil
			}
			return ConfigTag(t), nil
		})
	}
	AgentPushes[livechat.KindTagCreated] = tag("tag_created", true)
	AgentPushes[livechat.KindTagUpdated] = tag("tag_updated", true)
	AgentPushes[livechat.KindTagDeleted] = tag("tag_deleted", false)
}

// autoAccessChange renders one change: the whole rule when added, id,
// status and the changed fields when updated, id and status when deleted.
func autoAccessChange(ch livechat.AutoAccessChange) M {
	if ch.Rule == nil {
		return M{"id": ch.ID, "status": ch.Status}
	}
	full := AutoAccess(ch.Rule)
	full["status"] = ch.Status
	if ch.Status == "added" {
		return full
	}
	out := changedOnly(full, ch.ID, ch.Changed)
	out["status"] = ch.Status
	return out
}

// autoAccessesPush is 3.5's auto_accesses_updated (an array of changes);
// 3.4 names each change apart (auto_access_added/updated/deleted), so a
// 3.4 session gets the push only for single changes.
func autoAccessesPush(_ context.Context, _ *livechat.Service, ev *livechat.DomainEvent, v string) (string, any, error) {
	d := ev.Data.(livechat.AutoAccessesData)
	switch {
	case v >= "3.5":
		out := make([]M, 0, len(d.Changes))
		for _, ch := range d.Changes {
			out = append(out, autoAccessChange(ch))
		}
		return "auto_accesses_updated", out, nil
	case v == "3.4" && len(d.Changes) == 1:
		p := autoAccessChange(d.Changes[0])
		delete(p, "status")
		return "auto_access_" + d.Changes[0].Status, p, nil
	}
	return "", nil, nil
}
