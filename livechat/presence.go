package livechat

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// routing is the in-process state behind presence and routing.
//
// Presence (live RTM sessions per agent, and which of them are away) lives
// only in this process: it is what a session on this instance told us. Routing
// decisions are serialized by routeMu, a mutex of its own rather than a
// stripe of Service.locks: a decision locks chats (stripes) while it runs,
// and a stripe shared with one of those chats would deadlock.
//
// Lock order: routeMu, then chat stripes; mu is a leaf (never held while
// calling the store or another lock).
type routing struct {
	mu     sync.Mutex
	agents map[string]*agentPresence // guarded by mu

	routeMu sync.Mutex
	// lastAssigned breaks load ties: longest since its last assignment first. Guarded by routeMu.
	lastAssigned map[string]time.Time
	// queued remembers the queue entry last written per chat, so a routing
	// pass rewrites only the threads whose place changed. Guarded by routeMu.
	queued map[string]QueuePosition
}

// agentPresence counts an agent's live sessions and remembers which are away.
// An agent whose last session closed keeps its status until graceUntil
// (presence_grace.go); zero means no grace is running.
type agentPresence struct {
	sessions   int
	away       map[string]bool
	graceUntil time.Time
}

func newRouting() *routing {
	return &routing{agents: map[string]*agentPresence{}, lastAssigned: map[string]time.Time{}, queued: map[string]QueuePosition{}}
}

// presence returns how many live sessions an agent has and whether all of them are away.
func (r *routing) presence(agentID string) (sessions int, allAway bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.agents[agentID]
	if p == nil {
		return 0, false
	}
	return p.sessions, p.sessions > 0 && len(p.away) >= p.sessions
}

// SessionKey names one live session for SetAway; RTM sessions use their
// numeric session id (the one their requests carry in Origin).
func SessionKey(sessionID uint64) string { return strconv.FormatUint(sessionID, 10) }

// AgentConnected records a new live session of an agent (the RTM session
// calls it on login). An agent who was offline becomes online with its stored
// routing status: routing_status_set tells the organization, and when it
// accepts chats the queue of its groups is served.
func (s *Service) AgentConnected(ctx context.Context, agentID string) {
	s.changePresence(ctx, agentID, func(p *agentPresence) {
		p.sessions++
		p.graceUntil = time.Time{} // reconnecting within the grace cancels it
	})
}

// AgentDisconnected records the end of a live session. A session that set
// itself away must clear that (SetAway false) before it calls this; when the
// last session goes, the away marks are forgotten anyway, and the agent stays
// online for routing for Config.AgentOfflineGrace (ExpireOfflineAgents ends it).
func (s *Service) AgentDisconnected(ctx context.Context, agentID string) {
	s.changePresence(ctx, agentID, func(p *agentPresence) {
		if p.sessions == 0 {
			return
		}
		p.sessions--
		if p.sessions == 0 {
			clear(p.away)
			if grace := s.cfg.AgentOfflineGrace; grace > 0 {
				p.graceUntil = s.clock.Now().Add(grace)
			}
		}
	})
}

// SetAway marks one live session of an agent away or back (set_away_status,
// login's away flag). When every session of the agent is away, the router
// treats the agent as not accepting chats.
func (s *Service) SetAway(ctx context.Context, agentID, sessionKey string, away bool) error {
	if agentID == "" || sessionKey == "" {
		return Errorf(TypeValidation, "agent and session are required")
	}
	s.changePresence(ctx, agentID, func(p *agentPresence) {
		if away {
			p.away[sessionKey] = true
		} else {
			delete(p.away, sessionKey)
		}
	})
	return nil
}

// changePresence applies change to an agent's presence and announces a change
// of its effective routing status; an agent that becomes available is given
// the queued chats it can take.
func (s *Service) changePresence(ctx context.Context, agentID string, change func(*agentPresence)) {
	agentID = strings.ToLower(agentID)
	a, err := s.store.Agents().Get(ctx, agentID)
	if err != nil {
		a = nil // unknown agent: keep counting, nothing to announce
	}
	r := s.routing
	r.mu.Lock()
	var before string
	if a != nil {
		before = s.effectiveStatusLocked(a)
	}
	p := r.agents[agentID]
	if p == nil {
		p = &agentPresence{away: map[string]bool{}}
		r.agents[agentID] = p
	}
	change(p)
	if p.sessions == 0 && len(p.away) == 0 && p.graceUntil.IsZero() {
		delete(r.agents, agentID)
	}
	var after string
	if a != nil {
		after = s.effectiveStatusLocked(a)
	}
	r.mu.Unlock()
	if a == nil || before == after {
		return
	}
	s.emit(ctx, &DomainEvent{Kind: KindRoutingStatusSet, RequesterID: agentID, Topics: []Topic{OrgTopic}, Data: RoutingStatusData{AgentID: agentID, Status: after}})
	if after == RoutingAccepting {
		s.routeQueuedLogged(ctx)
	}
}

// EffectiveRoutingStatus is the status the router and list_routing_statuses
// use: bots have their stored status; human agents are offline without a live
// session (once the offline grace after the last one has passed), not accepting while all their sessions are away, and otherwise
// have their stored status. Suspended agents are offline.
func (s *Service) EffectiveRoutingStatus(a *Agent) string {
	s.routing.mu.Lock()
	defer s.routing.mu.Unlock()
	return s.effectiveStatusLocked(a)
}

// effectiveStatusLocked is EffectiveRoutingStatus; must hold routing.mu.
func (s *Service) effectiveStatusLocked(a *Agent) string {
	if a.Suspended {
		return RoutingOffline
	}
	stored := a.RoutingStatus
	if a.Kind == AgentKindBot {
		if stored == "" {
			return RoutingAccepting
		}
		return stored
	}
	p := s.routing.agents[a.ID]
	if p == nil {
		return RoutingOffline
	}
	if p.sessions == 0 {
		if !s.inGraceLocked(p) {
			return RoutingOffline
		}
		if stored != RoutingAccepting {
			return RoutingNotAccepting
		}
		return RoutingAccepting
	}
	if len(p.away) >= p.sessions || stored != RoutingAccepting {
		return RoutingNotAccepting
	}
	return RoutingAccepting
}
