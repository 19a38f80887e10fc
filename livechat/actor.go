package livechat

import "slices"

// Actor kinds.
const (
	ActorAgent    = "agent"
	ActorCustomer = "customer"
	ActorSystem   = "system"
)

// Actor is the caller of a core operation. Agents (human or bot) carry their
// Agent record; customers their Customer record. The system actor (cron jobs,
// the CLI, routing) may do anything.
type Actor struct {
	Kind     string
	ID       string
	Agent    *Agent
	Customer *Customer
	// ClientID is the application the credential was issued to, if any.
	ClientID string
	// TokenKind is the kind of credential that authenticated the actor.
	TokenKind string
}

// System is the actor for server-initiated work.
func System() Actor { return Actor{Kind: ActorSystem, ID: ""} }

// AgentActor returns the actor for agent a.
func AgentActor(a *Agent) Actor { return Actor{Kind: ActorAgent, ID: a.ID, Agent: a} }

// CustomerActor returns the actor for customer c.
func CustomerActor(c *Customer) Actor { return Actor{Kind: ActorCustomer, ID: c.ID, Customer: c} }

// IsSystem says whether the actor is the server itself.
func (a Actor) IsSystem() bool { return a.Kind == ActorSystem }

// IsAgent says whether the actor is an agent or bot.
func (a Actor) IsAgent() bool { return a.Kind == ActorAgent && a.Agent != nil }

// IsCustomer says whether the actor is a customer.
func (a Actor) IsCustomer() bool { return a.Kind == ActorCustomer }

// UserType is the chat user type the actor appears as.
func (a Actor) UserType() string {
	if a.IsCustomer() {
		return UserCustomer
	}
	return UserAgent
}

// IsManager says whether the actor may manage the organization (system,
// owners, vice owners and administrators).
func (a Actor) IsManager() bool {
	return a.IsSystem() || (a.IsAgent() && a.Agent.SeesAllChats())
}

// canReadChat decides whether the actor may see chat: customers their own
// chats; agents chats they are in or follow, chats whose access groups meet
// theirs, and every chat when their role says so.
func (a Actor) canReadChat(c *Chat) bool {
	switch {
	case a.IsSystem():
		return true
	case a.IsCustomer():
		return c.CustomerID == a.ID
	case a.IsAgent():
		if a.Agent.SeesAllChats() || c.User(a.ID) != nil || slices.Contains(c.Followers, a.ID) {
			return true
		}
		return groupsMeet(a.Agent.GroupIDs(), c.Access.GroupIDs)
	}
	return false
}

func groupsMeet(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
