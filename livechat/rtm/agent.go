package rtm

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// agentLogin is the login payload of the Agent Chat API.
type agentLogin struct {
	Token                   string              `json:"token"`
	Timezone                string              `json:"timezone"`
	Reconnect               bool                `json:"reconnect"`
	Away                    bool                `json:"away"`
	CustomerMonitoringLevel string              `json:"customer_monitoring_level"`
	Pushes                  map[string][]string `json:"pushes"`
	PushNotifications       json.RawMessage     `json:"push_notifications"`
	Application             json.RawMessage     `json:"application"`
}

var monitoringLevels = []string{"my", "chatting", "invited", "online", "highest_available"}

// AgentLogin logs an agent in: the token (with or without its scheme),
// pushes subscription and monitoring level; the answer is license,
// my_profile and chats_summary, followed by incoming_customers (3.3+).
func AgentLogin(ctx context.Context, s *Session, raw json.RawMessage) (any, error) {
	svc := s.Service()
	v := s.Version()
	req := &agentLogin{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, req); err != nil {
			return nil, livechat.Errorf(livechat.TypeValidation, "Wrong format of request: login payload")
		}
	}
	if req.Token == "" {
		return nil, livechat.Errorf(livechat.TypeValidation, "token is required")
	}
	level := req.CustomerMonitoringLevel
	if level == "" {
		level = "my"
	}
	if !slices.Contains(monitoringLevels, level) || (level == "highest_available" && v < "3.4") {
		return nil, livechat.Errorf(livechat.TypeValidation, "customer_monitoring_level is not valid")
	}
	if v >= "3.5" && len(req.PushNotifications) > 0 && string(req.PushNotifications) != "null" {
		return nil, livechat.Errorf(livechat.TypeValidation, "push_notifications is not accepted in 3.5")
	}
	actor, cred, err := svc.AuthenticateCredential(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	s.SetCredential(cred)
	if !actor.IsAgent() {
		return nil, livechat.Errorf(livechat.TypeAuthentication, "Customer tokens cannot log in to the Agent API")
	}
	a := actor.Agent
	topics := []livechat.Topic{livechat.AgentTopic(a.ID), livechat.OrgTopic}
	for _, g := range a.GroupIDs() {
		topics = append(topics, livechat.GroupTopic(g))
	}
	s.SetMonitoringLevel(level)
	s.Identify(actor, topics, req.Pushes)
	svc.AgentConnected(ctx, a.ID)
	key := livechat.SessionKey(s.ID())
	if req.Away {
		if err := svc.SetAway(ctx, a.ID, key, true); err != nil {
			return nil, err
		}
	}
	s.OnClose(func() {
		ctx := context.Background()
		_ = svc.SetAway(ctx, a.ID, key, false) // an away session that ends must not leave the agent away
		svc.AgentDisconnected(ctx, a.ID)
	})
	summary, err := api.ChatsSummary(ctx, svc, actor, v)
	if err != nil {
		return nil, err
	}
	org := svc.Organization()
	license := api.M{"id": strconv.FormatInt(org.LicenseID, 10), "plan": "enterprise", "in_trial": false,
		"creation_timestamp": org.CreatedAt.Unix(), "expiration_timestamp": org.CreatedAt.AddDate(100, 0, 0).Unix()}
	if v >= "3.4" {
		license["organization_id"] = org.OrganizationID
	}
	profile := api.M{"id": a.ID, "type": livechat.UserAgent, "name": a.Name, "email": a.Email, "avatar": a.Avatar,
		"present": true, "routing_status": a.RoutingStatus, "permission": a.Role}
	if v >= "3.3" {
		customers := []api.M{}
		seen := map[string]bool{}
		for _, ch := range summary {
			for _, u := range ch["users"].([]api.M) {
				id, _ := u["id"].(string)
				if u["type"] == livechat.UserCustomer && !seen[id] {
					seen[id] = true
					if c, err := svc.GetCustomer(ctx, actor, id); err == nil {
						customers = append(customers, api.Customer(c))
					}
				}
			}
		}
		s.Push("incoming_customers", api.M{"customer_monitoring_level": level, "customers": customers}, "")
	}
	return api.M{"license": license, "my_profile": profile, "chats_summary": summary}, nil
}
