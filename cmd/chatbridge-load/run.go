package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runner is one load run against one server.
type runner struct {
	cfg      *config
	addr     string // resolved loopback ip:port
	base     string // http://addr
	http     *http.Client
	log      io.Writer
	runID    string
	rtmToken string

	sockets       []*socket
	connectErrors atomic.Int64
	connectLat    samples
	closing       atomic.Bool
	drops         atomic.Int64

	chatIDs []string
	starts  []atomic.Int64 // unix nanos at which send_event seq was called
	sendLat samples
	pushLat samples
	sent    atomic.Int64
	ok      atomic.Int64
	pushes  atomic.Int64
	lastOK  atomic.Int64 // unix nanos of the last successful send_event answer

	errMu  sync.Mutex
	errors map[string]int
}

func (r *runner) countError(kind string) {
	r.errMu.Lock()
	r.errors[kind]++
	r.errMu.Unlock()
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// result is one run's figures; --json prints it for `summarize`.
type result struct {
	Addr        string  `json:"addr"`
	Agents      int     `json:"agents"`
	Listeners   int     `json:"listeners"`
	Chats       int     `json:"chats"`
	Rate        float64 `json:"rate"`
	DurationSec float64 `json:"duration_s"`

	SocketsOpened  int     `json:"sockets_opened"`
	ConnectErrors  int     `json:"connect_errors"`
	ConnectSeconds float64 `json:"connect_s"`
	Connect        latency `json:"connect_login"`

	RSSBase        float64 `json:"rss_base_bytes"`
	RSSSockets     float64 `json:"rss_sockets_bytes"`
	RSSEnd         float64 `json:"rss_end_bytes"`
	HeapStackBase  float64 `json:"heap_stack_base_bytes"`
	HeapStackSock  float64 `json:"heap_stack_sockets_bytes"`
	RSSPerSocket   float64 `json:"rss_per_socket_bytes"`
	HeapPerSocket  float64 `json:"heap_stack_per_socket_bytes"`
	GoroutinesBase float64 `json:"goroutines_base"`
	GoroutinesSock float64 `json:"goroutines_sockets"`
	ServerSockets  float64 `json:"server_agent_sockets"`

	EventsSent    int64   `json:"events_sent"`
	EventsOK      int64   `json:"events_ok"`
	EventErrors   int64   `json:"event_errors"`
	Throughput    float64 `json:"throughput_per_s"`
	SendEvent     latency `json:"send_event"`
	MaxLagMs      float64 `json:"max_schedule_lag_ms"`
	LateStarts    int64   `json:"late_starts"`
	Push          latency `json:"push"`
	PushExpected  int64   `json:"push_expected"`
	PushMissing   int64   `json:"push_missing"`
	SocketDrops   int64   `json:"socket_drops"`
	SlowConsumers float64 `json:"slow_consumers"`
	// ServerCPU is the server's CPU time during the load phase over its
	// length: 1.0 is one core busy.
	ServerCPU float64 `json:"server_cpu"`
	// LoadCPU is this tool's CPU over the load phase; OtherCPU what the
	// rest of the machine used besides the server and this tool (cores),
	// a sign of a noisy run on a shared machine (-1: unknown).
	LoadCPU  float64 `json:"load_cpu"`
	OtherCPU float64 `json:"other_cpu"`

	Errors map[string]int `json:"errors,omitempty"`
}

// runLoad is `chatbridge-load [flags]`: connect, set up chats, load, report.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	addr, err := resolveLoopback(ctx, cfg.Addr)
	if err != nil {
		return err
	}
	// The whole run is bounded, whatever the server does.
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+cfg.Duration+2*time.Minute)
	defer cancel()
	var id [4]byte
	_, _ = rand.Read(id[:])
	r := &runner{
		cfg: cfg, addr: addr, base: "http://" + addr, log: stderr, runID: hex.EncodeToString(id[:]),
		errors: map[string]int{},
		http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			Proxy:               nil, // loopback only: never through a proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        cfg.Concurrency + 4,
			MaxIdleConnsPerHost: cfg.Concurrency + 4,
			MaxConnsPerHost:     cfg.Concurrency + 4,
			DisableCompression:  true,
		}},
	}
	defer r.http.CloseIdleConnections()
	res, err := r.run(ctx)
	if err != nil {
		return err
	}
	printSummary(stdout, res)
	if cfg.JSON {
		b, _ := json.Marshal(res)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return nil
}

func (r *runner) run(ctx context.Context) (*result, error) {
	cfg := r.cfg
	res := &result{Addr: r.addr, Agents: cfg.Agents, Listeners: cfg.Listeners, Chats: cfg.Chats, Rate: cfg.Rate,
		DurationSec: cfg.Duration.Seconds()}
	base, err := r.metrics(ctx)
	if err != nil {
		return nil, fmt.Errorf("server at %s: %w", r.addr, err)
	}
	r.rtmToken = cfg.AdminToken
	if cfg.Username != "" {
		if r.rtmToken, err = r.passwordToken(ctx); err != nil {
			return nil, err
		}
	}

	// 1. Sockets.
	r.logf("opening %d agent RTM sockets (%d listening) to %s", cfg.Agents, cfg.Listeners, r.addr)
	t0 := time.Now()
	r.openSockets(ctx)
	defer r.closeSockets()
	res.ConnectSeconds = time.Since(t0).Seconds()
	res.SocketsOpened, res.ConnectErrors = len(r.sockets), int(r.connectErrors.Load())
	res.Connect = r.connectLat.summary()
	r.logf("%d sockets open in %.1fs (%d failed); settling %s", res.SocketsOpened, res.ConnectSeconds, res.ConnectErrors, cfg.Settle)
	if err := sleep(ctx, cfg.Settle); err != nil {
		return nil, err
	}
	withSockets, err := r.metrics(ctx)
	if err != nil {
		return nil, err
	}
	res.RSSBase, res.RSSSockets = base.RSS, withSockets.RSS
	res.HeapStackBase, res.HeapStackSock = base.HeapInuse+base.StackInuse, withSockets.HeapInuse+withSockets.StackInuse
	res.GoroutinesBase, res.GoroutinesSock, res.ServerSockets = base.Goroutines, withSockets.Goroutines, withSockets.AgentSockets
	if n := float64(res.SocketsOpened); n > 0 {
		res.RSSPerSocket = (res.RSSSockets - res.RSSBase) / n
		res.HeapPerSocket = (res.HeapStackSock - res.HeapStackBase) / n
	}

	// 2. Chats: one new customer each, started by the owner.
	if err := r.setupChats(ctx); err != nil {
		return nil, err
	}

	// 3. Load.
	r.logf("send_event at %.0f/s for %s over %d chats", cfg.Rate, cfg.Duration, len(r.chatIDs))
	before, err := r.metrics(ctx)
	if err != nil {
		return nil, err
	}
	cpu0 := takeCPU()
	if err := r.load(ctx, res); err != nil {
		return nil, err
	}
	cpu1 := takeCPU()
	secs := cpu1.at.Sub(cpu0.at).Seconds()
	res.OtherCPU = -1
	if after, err := r.metrics(ctx); err == nil && secs > 0 {
		res.ServerCPU = (after.CPUSeconds - before.CPUSeconds) / secs
		res.LoadCPU = (cpu1.self - cpu0.self) / secs
		if cpu0.hasBusy && cpu1.hasBusy {
			res.OtherCPU = max((cpu1.busy-cpu0.busy)/secs-res.ServerCPU-res.LoadCPU, 0)
		}
	}
	res.EventsSent, res.EventsOK = r.sent.Load(), r.ok.Load()
	res.EventErrors = res.EventsSent - res.EventsOK
	res.SendEvent = r.sendLat.summary()

	// 4. Pushes still on their way, then the totals.
	res.PushExpected = res.EventsOK * int64(r.listenersOpen())
	deadline := time.Now().Add(5 * time.Second)
	for r.pushes.Load() < res.PushExpected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	res.Push = r.pushLat.summary()
	res.PushMissing = max(res.PushExpected-r.pushes.Load(), 0)
	end, err := r.metrics(ctx)
	if err == nil {
		res.RSSEnd = end.RSS
		res.SlowConsumers = end.SlowConsumers - base.SlowConsumers
	}
	res.SocketDrops = r.drops.Load()
	r.errMu.Lock()
	res.Errors = maps.Clone(r.errors)
	r.errMu.Unlock()
	r.logf("load over: %d/%d events ok, %d pushes, %d socket drops", res.EventsOK, res.EventsSent, r.pushes.Load(), res.SocketDrops)
	return res, nil
}

// listenersOpen counts the listening sockets that opened (and so should
// receive every event).
func (r *runner) listenersOpen() int {
	n := 0
	for _, s := range r.sockets {
		if s.listener {
			n++
		}
	}
	return n
}

func (r *runner) setupChats(ctx context.Context) error {
	for i := range r.cfg.Chats {
		var cu struct {
			CustomerID string `json:"customer_id"`
		}
		body := fmt.Appendf(nil, `{"name":"Load customer %d","email":"load-%s-%d@example.test"}`, i, r.runID, i)
		if err := r.webCall(ctx, "create_customer", body, &cu); err != nil {
			return fmt.Errorf("create_customer: %w", err)
		}
		var ch struct {
			ChatID string `json:"chat_id"`
		}
		body = fmt.Appendf(nil, `{"chat":{"users":[{"id":%q,"type":"customer"}]}}`, cu.CustomerID)
		if err := r.webCall(ctx, "start_chat", body, &ch); err != nil {
			return fmt.Errorf("start_chat: %w", err)
		}
		r.chatIDs = append(r.chatIDs, ch.ChatID)
	}
	return nil
}

// load calls send_event on an open-loop schedule (cfg.Rate per second,
// round-robin over the chats) with at most cfg.Concurrency calls in flight.
// A call that cannot start on time because all slots are busy starts late;
// late starts and the worst lag are reported.
func (r *runner) load(ctx context.Context, res *result) error {
	total := int(r.cfg.Rate * r.cfg.Duration.Seconds())
	r.starts = make([]atomic.Int64, total)
	slots := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	var maxLag time.Duration
	var late int64
	t0 := time.Now()
	for seq := range total {
		due := t0.Add(time.Duration(float64(seq) / r.cfg.Rate * float64(time.Second)))
		if err := sleep(ctx, time.Until(due)); err != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if lag := time.Since(due); lag > maxLag {
			maxLag = lag
		}
		if time.Since(due) > 100*time.Millisecond {
			late++
		}
		wg.Go(func() {
			defer func() { <-slots }()
			r.sendEvent(ctx, seq)
		})
	}
	wg.Wait()
	_ = sleep(ctx, time.Until(t0.Add(r.cfg.Duration))) // the phase lasts --duration, also at --rate 0
	elapsed := time.Since(t0)
	if last := r.lastOK.Load(); last != 0 {
		elapsed = time.Unix(0, last).Sub(t0)
	}
	if elapsed > 0 {
		res.Throughput = float64(r.ok.Load()) / elapsed.Seconds()
	}
	res.MaxLagMs, res.LateStarts = ms(maxLag), late
	return ctx.Err()
}

func (r *runner) sendEvent(ctx context.Context, seq int) {
	chatID := r.chatIDs[seq%len(r.chatIDs)]
	body := fmt.Appendf(nil, `{"chat_id":%q,"event":{"type":"message","visibility":"all","text":%q}}`, chatID, r.eventText(seq))
	var out struct {
		EventID string `json:"event_id"`
	}
	r.sent.Add(1)
	start := time.Now()
	r.starts[seq].Store(start.UnixNano())
	err := r.webCall(ctx, "send_event", body, &out)
	done := time.Now()
	if err == nil && out.EventID == "" {
		err = fmt.Errorf("send_event answered no event_id")
	}
	if err != nil {
		r.countError("send_event_" + errKind(err))
		return
	}
	r.sendLat.add(done.Sub(start))
	r.ok.Add(1)
	for t := done.UnixNano(); ; {
		last := r.lastOK.Load()
		if last >= t || r.lastOK.CompareAndSwap(last, t) {
			break
		}
	}
}

// sleep waits d (nothing if d <= 0) unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
