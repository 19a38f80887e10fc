package livechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config configures the core. The zero value of every field but Store is a
// documented default.
type Config struct {
	// Store keeps everything; required.
	Store Store
	// Publisher receives domain events; nil drops them.
	Publisher Publisher
	// Clock tells the time; nil means SystemClock.
	Clock Clock
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// OrganizationID is used on first start instead of a generated UUID.
	OrganizationID string
	// LicenseID is used on first start instead of a generated number.
	LicenseID int64
	// AgentTokenTTL is the life of agent access tokens (default 8 h, as LiveChat).
	AgentTokenTTL time.Duration
	// RefreshTokenTTL is the life of agent refresh tokens (default 30 days).
	RefreshTokenTTL time.Duration
	// CustomerTokenTTL is the life of customer access tokens (default 8 h).
	CustomerTokenTTL time.Duration
	// MaxCustomerChats is how many active chats one customer may hold (default 1).
	MaxCustomerChats int
	// PasswordCost is the bcrypt cost of stored passwords (default bcrypt.DefaultCost).
	PasswordCost int
	// Files keeps upload_file's files; nil disables uploads (see NewDirFileStore).
	Files FileStore
	// StrictProperties rejects chat, thread, event, license and group
	// properties that no definition registers, as LiveChat does. By default
	// only namespaces with registered definitions are strict (see
	// config_properties.go).
	StrictProperties bool
	// AgentOfflineGrace is how long an agent whose live sessions all closed stays online for routing (default 30 s; negative: none).
	AgentOfflineGrace time.Duration
}

func (c *Config) setDefaults() {
	if c.Publisher == nil {
		c.Publisher = Publishers(nil)
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AgentTokenTTL == 0 {
		c.AgentTokenTTL = 8 * time.Hour
	}
	if c.RefreshTokenTTL == 0 {
		c.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if c.CustomerTokenTTL == 0 {
		c.CustomerTokenTTL = 8 * time.Hour
	}
	if c.MaxCustomerChats == 0 {
		c.MaxCustomerChats = 1
	}
	if c.AgentOfflineGrace == 0 {
		c.AgentOfflineGrace = 30 * time.Second
	}
	if c.PasswordCost == 0 {
		c.PasswordCost = bcrypt.DefaultCost
	}
}

// Service is the conversation core. It is safe for concurrent use.
type Service struct {
	cfg   Config
	store Store
	pub   Publisher
	clock Clock
	log   *slog.Logger
	locks *keyLocks
	org   Organization
	// routing is the in-process presence and routing state (routing.go).
	routing *routing
	// cust is the Customer Chat API's in-process state (customer_groups.go).
	cust *customerState
}

// NewService prepares the core: it loads the organization (creating it, with
// group 0, on first start). Call it once per process.
func NewService(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("livechat: Config.Store is required")
	}
	cfg.setDefaults()
	s := &Service{cfg: cfg, store: cfg.Store, pub: cfg.Publisher, clock: cfg.Clock, log: cfg.Logger, locks: newKeyLocks(), routing: newRouting(), cust: newCustomerState()}
	org, err := s.ensureOrganization(ctx)
	if err != nil {
		return nil, err
	}
	s.org = org
	if err := s.ensureGroupZero(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Organization returns the organization this server serves.
func (s *Service) Organization() Organization { return s.org }

// Store returns the store the core uses (for housekeeping jobs).
func (s *Service) Store() Store { return s.store }

// Clock returns the core's clock.
func (s *Service) Clock() Clock { return s.clock }

// now is the core's time, cut to the millisecond the store keeps, so a value
// read back equals the value written.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) ensureOrganization(ctx context.Context) (Organization, error) {
	org, err := s.store.Organizations().Get(ctx, OrganizationDocID)
	if err == nil {
		if s.cfg.OrganizationID != "" && s.cfg.OrganizationID != org.OrganizationID {
			return Organization{}, fmt.Errorf("livechat: the store belongs to organization %s, not %s", org.OrganizationID, s.cfg.OrganizationID)
		}
		return *org, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Organization{}, fmt.Errorf("livechat: load organization: %w", err)
	}
	o := Organization{ID: OrganizationDocID, OrganizationID: s.cfg.OrganizationID, LicenseID: s.cfg.LicenseID, CreatedAt: s.now()}
	if o.OrganizationID == "" {
		o.OrganizationID = NewUUID()
	}
	if o.LicenseID == 0 {
		o.LicenseID = 10_000_000 + rand.Int64N(90_000_000)
	}
	if err := s.store.Organizations().Insert(ctx, &o); err != nil {
		if errors.Is(err, ErrConflict) { // another instance won the race: take its organization
			return s.ensureOrganization(ctx)
		}
		return Organization{}, fmt.Errorf("livechat: create organization: %w", err)
	}
	s.log.Info("organization created", "organization_id", o.OrganizationID, "license_id", o.LicenseID)
	return o, nil
}

func (s *Service) ensureGroupZero(ctx context.Context) error {
	g := Group{ID: 0, Name: "General", LanguageCode: "en", CreatedAt: s.now()}
	if err := s.store.Groups().Insert(ctx, &g); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("livechat: create group 0: %w", err)
	}
	return nil
}

// emit hands a domain event to the publisher, stamping time and origin.
func (s *Service) emit(ctx context.Context, ev *DomainEvent) {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	if o, ok := OriginFrom(ctx); ok {
		ev.Origin = o
	}
	s.pub.Publish(ev)
	s.afterEmit(ctx, ev) // customer_groups.go: group availability for customers
}

// Announce emits a domain event on behalf of a component outside the core
// (the Configuration API telling webhook dispatchers their registrations
// changed). Sessions ignore kinds they have no push for.
func (s *Service) Announce(ctx context.Context, ev *DomainEvent) { s.emit(ctx, ev) }
