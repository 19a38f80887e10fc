package livechat

import "context"

// inGraceLocked reports whether an agent without live sessions is still
// within its offline grace; must hold routing.mu.
func (s *Service) inGraceLocked(p *agentPresence) bool {
	return p.sessions == 0 && !p.graceUntil.IsZero() && s.clock.Now().Before(p.graceUntil)
}

// ExpireOfflineAgents finalises agents whose last live session closed at least
// Config.AgentOfflineGrace ago: they are forgotten (offline for routing),
// routing_status_set offline tells the organization, and a routing pass
// serves the queue. It returns how many agents went offline.
func (s *Service) ExpireOfflineAgents(ctx context.Context) (int, error) {
	r := s.routing
	now := s.clock.Now()
	var expired []string
	r.mu.Lock()
	for id, p := range r.agents {
		if p.sessions == 0 && !p.graceUntil.IsZero() && !now.Before(p.graceUntil) {
			expired = append(expired, id)
			delete(r.agents, id)
		}
	}
	r.mu.Unlock()
	n := 0
	for _, id := range expired {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		a, err := s.store.Agents().Get(ctx, id)
		if err != nil || a.Kind == AgentKindBot || a.Suspended {
			continue // unknown, or its status never depended on presence
		}
		n++
		s.emit(ctx, &DomainEvent{Kind: KindRoutingStatusSet, RequesterID: id, Topics: []Topic{OrgTopic}, Data: RoutingStatusData{AgentID: id, Status: RoutingOffline}})
	}
	if n > 0 {
		s.routeQueuedLogged(ctx)
	}
	return n, nil
}
