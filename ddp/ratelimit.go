package ddp

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Kinds of call a rate rule can be limited to.
const (
	KindMethod       = "method"
	KindSubscription = "subscription"
)

// RateKey is what a rate rule counts by.
type RateKey int

const (
	// RateByConnection counts per session.
	RateByConnection RateKey = iota
	// RateByUser counts per logged-in user across sessions; calls without a
	// user are not counted.
	RateByUser
	// RateByIP counts per client address across sessions; loopback
	// addresses are exempt (as Rocket.Chat exempts 127.0.0.1).
	RateByIP
)

// RateInput describes one call, as Meteor's DDPRateLimiter sees it.
type RateInput struct {
	Kind          string // KindMethod or KindSubscription
	Name          string
	UserID        string
	ConnectionID  string
	ClientAddress string
}

// RateRule limits method calls and subscriptions: at most Limit calls per
// Interval for each distinct key, counted in fixed windows that start at a
// key's first call. Every matching call counts, refused ones included (as
// in Meteor). A call refused by any rule gets "too-many-requests" with
// details.timeToReset, the longest wait among the rules it broke.
type RateRule struct {
	// Kind limits the rule to KindMethod or KindSubscription; empty matches both.
	Kind string
	// Names the rule applies to; an entry ending in "*" matches by prefix.
	// Empty matches every name.
	Names []string
	// Except lists names (same syntax) the rule never applies to.
	Except []string
	// Key is what calls are counted by.
	Key RateKey
	// PerName counts each method or publication name separately.
	PerName bool
	// Limit calls per Interval.
	Limit    int
	Interval time.Duration
	// Exempt, when set, lets a call through this rule uncounted (for
	// example users with a bypass permission).
	Exempt func(RateInput) bool
}

// DefaultRateLimits are Rocket.Chat's default DDP_Rate_Limit_* rules plus
// Meteor accounts' login rule:
//
//	per IP                         120000 calls / 60 s
//	per user                       1200 / 60 s
//	per connection                 600 / 60 s
//	per user and name              20 / 10 s   (stream-*: 80 / 40 s)
//	per connection and name        10 / 10 s   (stream-*: 40 / 40 s)
//	login, createUser, resetPassword, forgotPassword: 5 / 10 s per connection
//
// Chat-specific rules (sendMessage, livechat:sendOfflineMessage) belong to
// the caller, appended to these.
func DefaultRateLimits() []RateRule {
	stream := []string{"stream-*"}
	return []RateRule{
		{Key: RateByIP, Limit: 120000, Interval: time.Minute},
		{Key: RateByUser, Limit: 1200, Interval: time.Minute},
		{Key: RateByConnection, Limit: 600, Interval: time.Minute},
		{Key: RateByUser, PerName: true, Except: stream, Limit: 20, Interval: 10 * time.Second},
		{Key: RateByUser, PerName: true, Names: stream, Limit: 80, Interval: 40 * time.Second},
		{Key: RateByConnection, PerName: true, Except: stream, Limit: 10, Interval: 10 * time.Second},
		{Key: RateByConnection, PerName: true, Names: stream, Limit: 40, Interval: 40 * time.Second},
		{Kind: KindMethod, Names: []string{"login", "createUser", "resetPassword", "forgotPassword"},
			Key: RateByConnection, PerName: true, Limit: 5, Interval: 10 * time.Second},
	}
}

func (r *RateRule) validate() error {
	switch {
	case r.Limit <= 0 || r.Interval <= 0:
		return fmt.Errorf("ddp: rate rule %v: Limit and Interval must be positive", r.Names)
	case r.Key < RateByConnection || r.Key > RateByIP:
		return fmt.Errorf("ddp: rate rule %v: unknown Key %d", r.Names, r.Key)
	case r.Kind != "" && r.Kind != KindMethod && r.Kind != KindSubscription:
		return fmt.Errorf("ddp: rate rule %v: unknown Kind %q", r.Names, r.Kind)
	}
	return nil
}

func (r *RateRule) matches(in RateInput) bool {
	if r.Kind != "" && r.Kind != in.Kind {
		return false
	}
	if len(r.Names) > 0 && !matchName(r.Names, in.Name) || matchName(r.Except, in.Name) {
		return false
	}
	return r.Exempt == nil || !r.Exempt(in)
}

func matchName(patterns []string, name string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(name, prefix) || p == name {
			return true
		}
	}
	return false
}

// key is the counter's key for in, or false when the rule does not count it.
func (r *RateRule) key(in RateInput) (string, bool) {
	switch r.Key {
	case RateByUser:
		return in.UserID, in.UserID != ""
	case RateByIP:
		addr := in.ClientAddress
		if ap, err := netip.ParseAddrPort(addr); err == nil {
			addr = ap.Addr().String()
		}
		if a, err := netip.ParseAddr(addr); err == nil && a.IsLoopback() {
			return "", false
		}
		return addr, addr != ""
	}
	return in.ConnectionID, true
}

// limiter holds the windows of some rules. A session has its own for the
// per-connection rules (no sharing, gone with the session); the Server has
// one, locked, for the per-user and per-IP rules.
type limiter struct {
	rules []RateRule

	mu      sync.Mutex
	windows map[windowKey]*window // guarded by mu
	calls   int                   // guarded by mu; expired windows are swept every sweepEvery calls
}

type windowKey struct {
	rule      int
	key, name string
}

type window struct {
	start time.Time
	count int
}

const sweepEvery = 1024

func newLimiter(rules []RateRule) *limiter {
	if len(rules) == 0 {
		return nil
	}
	return &limiter{rules: rules}
}

// take counts a call at now and reports whether it is allowed, and if not,
// how long until the longest of the broken windows resets.
func (l *limiter) take(now time.Time, in RateInput) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[windowKey]*window{}
	}
	if l.calls++; l.calls%sweepEvery == 0 {
		l.sweep(now)
	}
	var wait time.Duration
	allowed := true
	for i := range l.rules {
		r := &l.rules[i]
		if !r.matches(in) {
			continue
		}
		k, ok := r.key(in)
		if !ok {
			continue
		}
		wk := windowKey{rule: i, key: k}
		if r.PerName {
			wk.name = in.Name
		}
		w := l.windows[wk]
		if w == nil {
			w = &window{start: now}
			l.windows[wk] = w
		} else if now.Sub(w.start) >= r.Interval {
			w.start, w.count = now, 0
		}
		w.count++
		if w.count > r.Limit {
			allowed = false
			wait = max(wait, r.Interval-now.Sub(w.start))
		}
	}
	return wait, allowed
}

// sweep drops expired windows; must hold mu.
func (l *limiter) sweep(now time.Time) {
	for k, w := range l.windows {
		if now.Sub(w.start) >= l.rules[k.rule].Interval {
			delete(l.windows, k)
		}
	}
}

// splitRules separates per-connection rules from shared ones.
func splitRules(rules []RateRule) (conn, shared []RateRule) {
	for _, r := range rules {
		if r.Key == RateByConnection {
			conn = append(conn, r)
		} else {
			shared = append(shared, r)
		}
	}
	return conn, shared
}
