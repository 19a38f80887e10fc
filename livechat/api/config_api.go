package api

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/chatbridge/chatbridge/livechat"
)

// ConfigurationTable is the Configuration API (spec §2): agents, auto access,
// bots and bot templates, groups, properties, tags, webhook management and
// the organization look-ups. Callers are agents (human or bot); who may
// change what is decided by the core (managers for organization-wide
// changes, see each core operation). 3.5 batch methods run the single
// method on each request.
func ConfigurationTable() *Table {
	ms := []Method{
		// Agents (config_agents.go).
		{Name: "create_agent", Handler: createAgent},
		{Name: "get_agent", Handler: getAgent, ReadOnly: true},
		{Name: "list_agents", Handler: listAgents, ReadOnly: true},
		{Name: "update_agent", Handler: updateAgent},
		{Name: "delete_agent", Handler: agentByID((*livechat.Service).DeleteConfigAgent)},
		{Name: "suspend_agent", Handler: agentByID((*livechat.Service).SuspendAgent)},
		{Name: "unsuspend_agent", Handler: agentByID((*livechat.Service).UnsuspendAgent)},
		{Name: "approve_agent", Handler: agentByID((*livechat.Service).ApproveAgent)},
		{Name: "request_agent_unsuspension", Handler: requestAgentUnsuspension},
		// Auto access (config_autoaccess.go).
		{Name: "add_auto_access", Handler: addAutoAccess},
		{Name: "list_auto_accesses", Handler: listAutoAccesses, ReadOnly: true},
		{Name: "update_auto_access", Handler: updateAutoAccess},
		{Name: "delete_auto_access", Handler: deleteAutoAccess},
		// Bots (config_bots.go).
		{Name: "create_bot", Handler: createBot},
		{Name: "get_bot", Handler: getBot, ReadOnly: true},
		{Name: "list_bots", Handler: listBots, ReadOnly: true},
		{Name: "update_bot", Handler: updateBot},
		{Name: "delete_bot", Handler: deleteBot},
		{Name: "issue_bot_token", Handler: issueBotToken, Public: true, Since: "3.5"},
		{Name: "reset_bot_secret", Handler: resetBotSecret, Since: "3.5"},
		{Name: "create_bot_template", Handler: createBotTemplate, Since: "3.5"},
		{Name: "update_bot_template", Handler: updateBotTemplate, Since: "3.5"},
		{Name: "delete_bot_template", Handler: deleteBotTemplate, Since: "3.5"},
		{Name: "list_bot_templates", Handler: listBotTemplates, ReadOnly: true, Since: "3.5"},
		{Name: "reset_bot_template_secret", Handler: resetBotTemplateSecret, Since: "3.5"},
		// Groups (config_groups.go).
		{Name: "create_group", Handler: createGroup},
		{Name: "get_group", Handler: getGroup, ReadOnly: true},
		{Name: "list_groups", Handler: listGroups, ReadOnly: true},
		{Name: "update_group", Handler: updateGroup},
		{Name: "delete_group", Handler: deleteGroup},
		// Properties (config_properties.go).
		{Name: "register_property", Handler: registerProperty},
		{Name: "unregister_property", Handler: unregisterProperty},
		{Name: "publish_property", Handler: publishProperty},
		{Name: "list_properties", Handler: listProperties, ReadOnly: true},
		{Name: "update_license_properties", Handler: updateLicenseProperties},
		{Name: "list_license_properties", Handler: listLicenseProperties, ReadOnly: true},
		{Name: "delete_license_properties", Handler: deleteLicenseProperties},
		{Name: "update_group_properties", Handler: updateGroupProperties},
		{Name: "list_group_properties", Handler: listGroupProperties, ReadOnly: true, Until: "3.4"},
		{Name: "list_groups_properties", Handler: listGroupsProperties, ReadOnly: true, Since: "3.5"},
		{Name: "delete_group_properties", Handler: deleteGroupProperties},
		// Tags (config_tags.go).
		{Name: "create_tag", Handler: createTag, Since: "3.5"},
		{Name: "update_tag", Handler: updateTag, Since: "3.5"},
		{Name: "delete_tag", Handler: deleteTag, Since: "3.5"},
		{Name: "list_tags", Handler: listTags, ReadOnly: true, Since: "3.5"},
		// Organization (config_tags.go, with the other small families).
		{Name: "get_organization_id", Handler: getOrganizationID, ReadOnly: true, Since: "3.4", Until: "3.4"},
		{Name: "get_license_id", Handler: getLicenseID, ReadOnly: true, Since: "3.4", Until: "3.4"},
		{Name: "list_channels", Handler: listChannels, ReadOnly: true, Since: "3.5"},
	}
	// 3.5 batches of the single methods (spec §1.1).
	for _, name := range []string{"create_agent", "update_agent", "delete_agent", "suspend_agent", "unsuspend_agent",
		"approve_agent", "create_bot", "update_bot", "delete_bot"} {
		for _, m := range ms {
			if m.Name == name {
				ms = append(ms, Method{Name: "batch_" + name + "s", Handler: batch(m.Handler), Since: "3.5"})
			}
		}
	}
	ms = append(ms, WebhookMethods...) // config_webhooks.go
	return NewTable(ms...)
}

// maxBatch bounds the requests of one batch.
const maxBatch = 100

// batchParallel is how many requests of one batch run at once.
const batchParallel = 4

// batch runs a single method on every request of {"requests": [...]}, a
// few at a time, and answers {"responses": [...]} in request order; a
// failing request answers {"error": {...}} in its place and fails nothing else.
func batch(h Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		req, err := decode[struct {
			Requests []json.RawMessage `json:"requests"`
		}](c.Payload)
		if err != nil {
			return nil, err
		}
		if len(req.Requests) == 0 || len(req.Requests) > maxBatch {
			return nil, livechat.Errorf(livechat.TypeValidation, "requests must hold 1 to %d requests", maxBatch)
		}
		out := make([]any, len(req.Requests))
		sem := make(chan struct{}, batchParallel)
		var wg sync.WaitGroup
		for i, p := range req.Requests {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				one := *c
				one.Payload = p
				res, err := h(ctx, &one)
				if err != nil {
					res = M{"error": ErrorObject(err)}
				}
				out[i] = res
			}()
		}
		wg.Wait()
		return M{"responses": out}, nil
	}
}

// ErrorObject renders an error as LiveChat's {"type","message"[,"data"]};
// internal causes stay off the wire.
func ErrorObject(err error) M {
	le := livechat.AsError(err)
	msg := le.Message
	if le.Type == livechat.TypeInternal {
		msg = "Internal server error"
	}
	out := M{"type": le.Type, "message": msg}
	if len(le.Data) > 0 {
		out["data"] = le.Data
	}
	return out
}

// fieldSet checks a fields list against the allowed names.
func fieldSet(fields []string, allowed ...string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, f := range fields {
		ok := false
		for _, a := range allowed {
			ok = ok || a == f
		}
		if !ok {
			return nil, livechat.Errorf(livechat.TypeValidation, "fields: unknown field %q", f)
		}
		out[f] = true
	}
	return out, nil
}

// rawSet says whether a raw JSON field was sent (null counts as not sent).
func rawSet(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}
