package bridge

import (
	"errors"
	"log/slog"
	"time"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat"
)

// Config configures a Bridge. Service is required; the zero value of every
// other field is a documented default.
type Config struct {
	// Service is the conversation core.
	Service *livechat.Service
	// Hub delivers domain events to DDP sessions; nil means no live streams
	// (subscriptions still answer ready, nothing is pushed).
	Hub *livechat.Hub
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// ResumeTokenTTL is the life of the resume tokens login issues
	// (default livechat.DefaultResumeTokenTTL, 90 days).
	ResumeTokenTTL time.Duration
	// SiteName is the public setting Site_Name (default "chatbridge").
	SiteName string
	// SiteURL is the public setting Site_Url (default empty).
	SiteURL string
	// PeopleTTL is how long a user's name and username are cached for
	// pushes (default 30 s; agent_updated and customer_updated drop them
	// sooner).
	PeopleTTL time.Duration
}

// Bridge is the Rocket.Chat realtime API over the conversation core: it
// registers Rocket.Chat's methods and publications on a ddp.Server and keeps
// one hub subscriber per DDP session. It is safe for concurrent use.
type Bridge struct {
	cfg     Config
	svc     *livechat.Service
	hub     *livechat.Hub
	log     *slog.Logger
	clock   livechat.Clock
	people  *people
	memo    *memo
	unreads *unreads
	started time.Time // settings and permissions are dated from here
}

// New returns a Bridge for cfg.
func New(cfg Config) (*Bridge, error) {
	if cfg.Service == nil {
		return nil, errors.New("bridge: Config.Service is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ResumeTokenTTL <= 0 {
		cfg.ResumeTokenTTL = livechat.DefaultResumeTokenTTL
	}
	if cfg.SiteName == "" {
		cfg.SiteName = "chatbridge"
	}
	if cfg.PeopleTTL <= 0 {
		cfg.PeopleTTL = 30 * time.Second
	}
	b := &Bridge{cfg: cfg, svc: cfg.Service, hub: cfg.Hub, log: cfg.Logger, clock: cfg.Service.Clock(), memo: newMemo(), unreads: newUnreads()}
	b.people = newPeople(cfg.Service, cfg.PeopleTTL)
	b.started = b.clock.Now().UTC().Truncate(time.Millisecond)
	return b, nil
}

// Register adds the Rocket.Chat methods and publications to srv.
func (b *Bridge) Register(srv *ddp.Server) {
	for name, h := range b.methods() {
		srv.Method(name, h)
	}
	for name, h := range b.publications() {
		srv.Publish(name, h)
	}
}

// RateLimits are ddp.DefaultRateLimits plus Rocket.Chat's chat-specific
// rules: sendMessage 5 per second per user, livechat:sendOfflineMessage 1
// per 5 s per connection.
func RateLimits() []ddp.RateRule {
	return append(ddp.DefaultRateLimits(),
		ddp.RateRule{Kind: ddp.KindMethod, Names: []string{"sendMessage"}, Key: ddp.RateByUser, PerName: true, Limit: 5, Interval: time.Second},
		ddp.RateRule{Kind: ddp.KindMethod, Names: []string{"livechat:sendOfflineMessage"}, Key: ddp.RateByConnection, PerName: true, Limit: 1, Interval: 5 * time.Second},
	)
}

// methods is the method table: every Rocket.Chat method chatbridge answers.
func (b *Bridge) methods() map[string]ddp.MethodHandler {
	m := map[string]ddp.MethodHandler{
		// Accounts (login.go).
		"login":             b.login,
		"logout":            b.logout,
		"getNewToken":       b.getNewToken,
		"removeOtherTokens": b.removeOtherTokens,
		// Presence and bootstrap (settings.go).
		"UserPresence:setDefaultStatus": b.setDefaultStatus,
		"UserPresence:online":           b.presenceAway(false),
		"UserPresence:away":             b.presenceAway(true),
		"UserPresence:connect":          b.presenceConnect,
		"setUserStatus":                 b.setUserStatus,
		"public-settings/get":           b.publicSettings,
		"private-settings/get":          b.privateSettings,
		"permissions/get":               b.permissions,
		"getUserRoles":                  b.getUserRoles,
		"listEmojiCustom":               emptyList,
		"license:getModules":            emptyList,
		// Rooms and subscriptions (rooms.go).
		"rooms/get":               b.roomsGet,
		"subscriptions/get":       b.subscriptionsGet,
		"getRoomById":             b.getRoomByID,
		"getRoomNameById":         b.getRoomNameByID,
		"getRoomByTypeAndName":    b.getRoomByTypeAndName,
		"canAccessRoom":           b.canAccessRoom,
		"getRoomRoles":            b.getRoomRoles,
		"getUsersOfRoom":          b.getUsersOfRoom,
		"readMessages":            b.readMessages,
		"openRoom":                b.openRoom,
		"hideRoom":                b.hideRoom,
		"loadHistory":             b.loadHistory,
		"loadNextMessages":        b.loadNextMessages,
		"loadMissedMessages":      b.loadMissedMessages,
		"loadSurroundingMessages": b.loadSurroundingMessages,
		"getSingleMessage":        b.getSingleMessage,
		// Messages (messages.go).
		"sendMessage":   b.sendMessage,
		"updateMessage": b.updateMessage,
		"deleteMessage": b.deleteMessage,
		"setReaction":   b.setReaction,
		// Streams as methods (streams.go).
		"stream-notify-room":       b.notifyRoom,
		"stream-notify-user":       ignoreStreamEvent,
		"stream-notify-room-users": ignoreStreamEvent,
		// Omnichannel, visitor side (visitors.go).
		"livechat:registerGuest":      b.registerGuest,
		"livechat:loadHistory":        b.visitorLoadHistory,
		"livechat:getInitialData":     b.getInitialData,
		"livechat:setUpConnection":    b.setUpConnection,
		"sendMessageLivechat":         b.sendMessageLivechat,
		"livechat:closeByVisitor":     b.closeByVisitor,
		"livechat:sendOfflineMessage": b.sendOfflineMessage,
		// Legacy visitor helpers (visitors_legacy.go).
		"livechat:getAgentData":   b.getAgentData,
		"livechat:getNextAgent":   b.getNextAgent,
		"livechat:pageVisited":    b.pageVisited,
		"livechat:setCustomField": b.setCustomField,
		"livechat:loginByToken":   b.loginByToken,
		// Omnichannel, agent side (inquiries.go).
		"livechat:takeInquiry":          b.takeInquiry,
		"livechat:closeRoom":            b.closeRoom,
		"livechat:transfer":             b.transfer,
		"livechat:returnAsInquiry":      b.returnAsInquiry,
		"livechat:changeLivechatStatus": b.changeLivechatStatus,
	}
	for _, name := range unsupportedMethods {
		m[name] = notSupported(name)
	}
	return m
}

// publications is the publication table (streams.go).
func (b *Bridge) publications() map[string]ddp.PublishHandler {
	p := map[string]ddp.PublishHandler{}
	for name, rule := range b.streams() {
		p[name] = b.stream(name, rule)
	}
	for _, name := range readyOnlyPublications {
		p[name] = readyAtOnce
	}
	p["livechat:inquiry"] = b.inquiryPublication
	return p
}
