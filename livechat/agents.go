package livechat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// AgentInput describes an agent (or bot) to create.
type AgentInput struct {
	Email    string
	Name     string
	Username string // Rocket.Chat-style username; derived from the e-mail when empty
	Role     string // default normal
	Password string // optional; agents without one sign in with tokens only
	Groups   []GroupMembership
	Avatar   string
	MaxChats int
	// Bot makes a bot agent with a generated 32-hex id instead of an e-mail id.
	Bot           bool
	OwnerClientID string
	// Profile is what the Configuration API adds (job title, schedule, ...).
	Profile AgentProfile
	// RoutingStatus is the status the agent starts with (login_status);
	// empty means not accepting for agents, accepting for bots.
	RoutingStatus string
}

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CreateAgent creates an agent. Managers (owners, administrators, the
// system) may create agents; only owners and the system may create owners.
// Any agent may create bots (LiveChat's agents-bot--my:rw); it owns them.
func (s *Service) CreateAgent(ctx context.Context, actor Actor, in AgentInput) (*Agent, error) {
	if !actor.IsManager() && !(in.Bot && actor.IsAgent()) {
		return nil, Errorf(TypeAuthorization, "Only owners and administrators can create agents")
	}
	if err := validateProfile(&in.Profile); err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = RoleNormal
	}
	if !slices.Contains([]string{RoleOwner, RoleViceOwner, RoleAdministrator, RoleNormal}, in.Role) {
		return nil, Errorf(TypeValidation, "role must be one of owner, viceowner, administrator, normal")
	}
	if in.Role == RoleOwner && !actor.IsSystem() && actor.Agent.Role != RoleOwner {
		return nil, Errorf(TypeAuthorization, "Only owners can create owners")
	}
	now := s.now()
	a := &Agent{
		AccountID: NewUUID(), Name: strings.TrimSpace(in.Name), Role: in.Role, Avatar: in.Avatar,
		Groups: in.Groups, MaxChats: in.MaxChats, OwnerClientID: in.OwnerClientID,
		RoutingStatus: RoutingNotAccepting, CreatedAt: now, UpdatedAt: now, AgentProfile: in.Profile,
	}
	if a.Groups == nil {
		a.Groups = []GroupMembership{}
	}
	if a.MaxChats == 0 {
		a.MaxChats = 6
	}
	if in.Bot {
		a.ID, a.Kind = NewBotID(), AgentKindBot
		if actor.IsAgent() {
			a.OwnerID = actor.ID
		}
		a.Username = "bot." + a.ID[:8]
		a.RoutingStatus = RoutingAccepting
	} else {
		email := strings.ToLower(strings.TrimSpace(in.Email))
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
			return nil, Errorf(TypeValidation, "a valid e-mail is required")
		}
		a.ID, a.Kind, a.Email = email, AgentKindHuman, email
		a.Username = in.Username
		if a.Username == "" {
			a.Username = strings.ReplaceAll(email, "@", ".")
		}
	}
	if in.RoutingStatus != "" {
		a.RoutingStatus = in.RoutingStatus
	}
	a.Groups = slices.Clone(a.Groups)
	if err := normalizeMemberships(a.Groups, groupPriorityDefault(a)); err != nil {
		return nil, err
	}
	if !usernameRe.MatchString(a.Username) {
		return nil, Errorf(TypeValidation, "username may hold letters, digits, '.', '_' and '-' only")
	}
	if a.Name == "" {
		a.Name = a.Username
	}
	for _, g := range a.Groups {
		if _, err := s.store.Groups().Get(ctx, g.ID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, Errorf(TypeGroupNotFound, "group %d not found", g.ID)
			}
			return nil, err
		}
	}
	if in.Password != "" {
		h, err := s.hashPassword(in.Password)
		if err != nil {
			return nil, err
		}
		a.PasswordHash = h
	}
	if err := s.store.Agents().Insert(ctx, a); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, &Error{Type: TypeAlreadyExists, Message: "an agent with this e-mail or username already exists", Err: err}
		}
		return nil, err
	}
	kind := KindAgentCreated
	if a.Kind == AgentKindBot {
		kind = KindBotCreated
	}
	s.emit(ctx, &DomainEvent{Kind: kind, RequesterID: actor.ID, Topics: []Topic{OrgTopic}, AgentsOnly: true, Data: AgentData{Agent: a}})
	return a, nil
}

// GetAgent returns the agent with id (its e-mail, or a bot id). Any agent may
// read any agent's public record; customers only through chats.
func (s *Service) GetAgent(ctx context.Context, actor Actor, id string) (*Agent, error) {
	if actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Customers cannot read agents")
	}
	a, err := s.store.Agents().Get(ctx, strings.ToLower(id))
	if err != nil {
		return nil, storeErr(err, "Agent")
	}
	return a, nil
}

// FindAgentByLogin finds an agent by e-mail, username or account id, for sign-in.
func (s *Service) FindAgentByLogin(ctx context.Context, login string) (*Agent, error) {
	if a, err := s.store.Agents().Get(ctx, strings.ToLower(login)); err == nil {
		return a, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	for _, field := range []string{"username", "account_id"} {
		as, err := s.store.Agents().Find(ctx, Where(Eq(field, login)))
		if err != nil {
			return nil, err
		}
		if len(as) == 1 {
			return &as[0], nil
		}
	}
	return nil, notFound("Agent")
}

// ListAgents lists every agent and bot, oldest first.
func (s *Service) ListAgents(ctx context.Context, actor Actor) ([]Agent, error) {
	if actor.IsCustomer() {
		return nil, Errorf(TypeAuthorization, "Customers cannot list agents")
	}
	return s.store.Agents().Find(ctx, Query{Sort: "created_at"})
}

// SetAgentPassword sets an agent's password. Agents may change their own;
// managers anyone's.
func (s *Service) SetAgentPassword(ctx context.Context, actor Actor, id, password string) error {
	if !actor.IsManager() && actor.ID != id {
		return Errorf(TypeAuthorization, "Cannot change another agent's password")
	}
	h, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return s.updateAgent(ctx, id, func(a *Agent) error { a.PasswordHash = h; return nil })
}

// updateAgent runs a read-modify-write of one agent under its lock.
func (s *Service) updateAgent(ctx context.Context, id string, change func(*Agent) error) error {
	defer s.locks.lock("agent:" + id)()
	a, err := s.store.Agents().Get(ctx, id)
	if err != nil {
		return storeErr(err, "Agent")
	}
	if err := change(a); err != nil {
		return err
	}
	a.UpdatedAt = s.now()
	return s.store.Agents().Replace(ctx, id, a)
}

// PasswordDigest is the SHA-256 hex digest of a password, the form Meteor
// clients send and the form chatbridge hashes with bcrypt.
func PasswordDigest(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}

func (s *Service) hashPassword(password string) (string, error) {
	if len(password) < 6 || len(password) > 256 {
		return "", Errorf(TypeValidation, "password must be 6 to 256 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(PasswordDigest(password)), s.cfg.PasswordCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPasswordDigest says whether digest (SHA-256 hex of the password)
// matches the agent's stored hash.
func CheckPasswordDigest(a *Agent, digest string) bool {
	if a.PasswordHash == "" || len(digest) != 64 {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(strings.ToLower(digest))) == nil
}

// CheckPassword says whether the plain password matches the agent's stored hash.
func CheckPassword(a *Agent, password string) bool {
	return CheckPasswordDigest(a, PasswordDigest(password))
}
