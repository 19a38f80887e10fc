// Package broker carries domain events between chatbridge instances that
// share one store, over NATS. Each instance publishes the events its own
// core emits on one subject per organization, and hands the events of the
// other instances to its local hub, so a session connected to one instance
// hears a change made through another. Webhooks and metrics stay with the
// instance where the change happened (each event is delivered once).
//
// Events travel gob-encoded with their payload; the request origin (a
// session of the sending process) is dropped, so the requester's own copy
// with its request_id only exists on the instance that served the request.
package broker

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chatbridge/chatbridge/livechat"
)

// Config configures a Broker.
type Config struct {
	// URL is the NATS server (nats://host:4222); required.
	URL string
	// OrganizationID names the subject, so deployments can share a NATS.
	OrganizationID string
	// Instance identifies this process; events it sent come back and are
	// skipped. Default: a random id.
	Instance string
	// Local receives the events of the other instances: the hub (and the
	// webhook dispatcher for registration changes).
	Local livechat.Publisher
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Broker is a livechat.Publisher that forwards every local domain event to
// the other instances, and delivers theirs to Config.Local.
type Broker struct {
	cfg      Config
	nc       *nats.Conn
	sub      *nats.Subscription
	subject  string
	log      *slog.Logger
	sent     atomic.Int64
	received atomic.Int64
	dropped  atomic.Int64
}

// envelope is one event on the wire.
type envelope struct {
	Instance    string
	Kind        livechat.Kind
	ChatID      string
	ThreadID    string
	RequesterID string
	Topics      []livechat.Topic
	AgentsOnly  bool
	At          time.Time
	Data        any
}

// Connect connects to NATS and subscribes to the organization's events.
func Connect(ctx context.Context, cfg Config) (*Broker, error) {
	if cfg.URL == "" || cfg.Local == nil {
		return nil, errors.New("broker: a NATS URL and a local publisher are required")
	}
	if cfg.Instance == "" {
		cfg.Instance = livechat.NewUUID()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	b := &Broker{cfg: cfg, log: log.With("component", "broker"), subject: "chatbridge." + cfg.OrganizationID + ".events"}
	opts := []nats.Option{
		nats.Name("chatbridge " + cfg.Instance),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { b.log.Info("reconnected to NATS", "url", nc.ConnectedUrl()) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.dropped.Add(1)
			}
			b.log.Warn("NATS", "err", err)
		}),
	}
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(dl)))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect to %s: %w", cfg.URL, err)
	}
	b.nc = nc
	// One subscription; its handler runs on one goroutine, in order, with
	// the client's bounded pending buffer (a slow consumer drops messages:
	// ErrorHandler logs and counts it).
	if b.sub, err = nc.Subscribe(b.subject, b.deliver); err != nil {
		nc.Close()
		return nil, fmt.Errorf("broker: subscribe: %w", err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := nc.FlushWithContext(fctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.log.Info("cross-instance fan-out on", "url", nc.ConnectedUrl(), "subject", b.subject, "instance", cfg.Instance)
	return b, nil
}

// Publish implements livechat.Publisher: the event goes to the other
// instances. It never blocks on the network (NATS buffers, bounded).
func (b *Broker) Publish(ev *livechat.DomainEvent) {
	raw, err := encode(envelope{Instance: b.cfg.Instance, Kind: ev.Kind, ChatID: ev.ChatID, ThreadID: ev.ThreadID,
		RequesterID: ev.RequesterID, Topics: ev.Topics, AgentsOnly: ev.AgentsOnly, At: ev.At, Data: ev.Data})
	if err != nil {
		b.dropped.Add(1)
		b.log.Error("domain event not forwarded", "kind", ev.Kind, "err", err)
		return
	}
	if err := b.nc.Publish(b.subject, raw); err != nil {
		b.dropped.Add(1)
		b.log.Warn("domain event not forwarded", "kind", ev.Kind, "err", err)
		return
	}
	b.sent.Add(1)
}

// deliver hands another instance's event to the local publisher.
func (b *Broker) deliver(m *nats.Msg) {
	env, err := decode(m.Data)
	if err != nil {
		b.dropped.Add(1)
		b.log.Error("undecodable event from another instance", "err", err)
		return
	}
	if env.Instance == b.cfg.Instance {
		return
	}
	b.received.Add(1)
	b.cfg.Local.Publish(&livechat.DomainEvent{Kind: env.Kind, ChatID: env.ChatID, ThreadID: env.ThreadID, RequesterID: env.RequesterID,
		Topics: env.Topics, AgentsOnly: env.AgentsOnly, At: env.At, Data: env.Data})
}

// Stats says how many events were sent, received from others and dropped.
func (b *Broker) Stats() (sent, received, dropped int64) {
	return b.sent.Load(), b.received.Load(), b.dropped.Load()
}

// Close flushes what was published and disconnects.
func (b *Broker) Close() error {
	if b == nil || b.nc == nil {
		return nil
	}
	err := b.nc.Drain()
	for i := 0; i < 100 && !b.nc.IsClosed(); i++ {
		time.Sleep(20 * time.Millisecond) // Drain is asynchronous: wait for it, briefly
	}
	b.nc.Close()
	return err
}

func encode(env envelope) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&env); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(raw []byte) (envelope, error) {
	var env envelope
	err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&env)
	return env, err
}

func init() {
	// The payload types of domain events, and the values JSON-decoded
	// client content holds inside `any` fields (properties, postbacks,
	// rich content). A payload of another type is not forwarded (logged).
	for _, v := range []any{
		livechat.AccessData{}, livechat.AgentData{}, livechat.AgentIDData{}, livechat.AgentUpdatedData{},
		livechat.AutoAccessesData{}, livechat.ChatAssignedData{}, livechat.ChatDeactivatedData{},
		livechat.ChatTransferredData{}, livechat.CustomerData{}, livechat.CustomerPageData{},
		livechat.GroupAvailability{}, livechat.GroupData{}, livechat.GroupIDData{}, livechat.GroupUpdatedData{},
		livechat.IncomingChatData{}, livechat.IncomingEventData{}, livechat.MulticastData{}, livechat.PropertiesData{},
		livechat.PropertiesDeletedData{}, livechat.QueuePositionsData{}, livechat.RichMessagePostbackData{},
		livechat.RoutingStatusData{}, livechat.SneakPeekData{}, livechat.TagConfigData{}, livechat.TagData{},
		livechat.TypingIndicatorData{}, livechat.UserChangeData{}, livechat.TokenRevokedData{},
		time.Time{}, map[string]any{}, []any{}, []string{}, map[string]string{}, []map[string]any{}, map[string][]string{},
	} {
		gob.Register(v)
	}
}
