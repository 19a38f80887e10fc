package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Bounds of one run: the tool is for measuring one server on this machine,
// never a way to flood anything.
const (
	maxAgents      = 19_000 // the project's machines allow 20,000 open files per process
	maxDuration    = 10 * time.Minute
	maxConnectTime = 10 * time.Minute
	maxRate        = 5_000
	maxChats       = 1_000
	maxConcurrency = 512
	// fdReserve is what the tool keeps for itself beyond the sockets and
	// HTTP connections (stdio, the resolver, the runtime).
	fdReserve = 64
)

// config is one run's settings.
type config struct {
	Addr            string
	AdminToken      string
	Username        string
	Password        string
	Agents          int
	Listeners       int
	Chats           int
	Rate            float64
	Duration        time.Duration
	Concurrency     int
	DialConcurrency int
	ConnectTimeout  time.Duration
	Settle          time.Duration
	Version         string
	JSON            bool
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("chatbridge-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "server host:port; must resolve to loopback only")
	fs.StringVar(&c.AdminToken, "admin-token", os.Getenv("CHATBRIDGE_ADMIN_TOKEN"), "the server's --admin-token: the Web API caller (env CHATBRIDGE_ADMIN_TOKEN)")
	fs.StringVar(&c.Username, "username", "", "agent e-mail: RTM sockets log in with one token from POST /v2/token (password grant); default: the admin token")
	fs.StringVar(&c.Password, "password", os.Getenv("CHATBRIDGE_LOAD_PASSWORD"), "password of --username (env CHATBRIDGE_LOAD_PASSWORD)")
	fs.IntVar(&c.Agents, "agents", 100, fmt.Sprintf("agent RTM sockets to open and hold (max %d)", maxAgents))
	fs.IntVar(&c.Listeners, "listeners", 10, "how many of the sockets subscribe to incoming_event (push latency); the others filter it out; -1 = all")
	fs.IntVar(&c.Chats, "chats", 20, fmt.Sprintf("chats (one new customer each) the events are spread over (max %d)", maxChats))
	fs.Float64Var(&c.Rate, "rate", 100, fmt.Sprintf("send_event calls per second, in total (max %d)", maxRate))
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, fmt.Sprintf("length of the load phase (max %s)", maxDuration))
	fs.IntVar(&c.Concurrency, "concurrency", 64, "most send_event calls in flight at once")
	fs.IntVar(&c.DialConcurrency, "dial-concurrency", 32, "sockets being opened at once")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 2*time.Minute, fmt.Sprintf("bound on opening all sockets (max %s)", maxConnectTime))
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "pause after the sockets are open, before reading the server's memory")
	fs.StringVar(&c.Version, "version", "3.5", "Agent API version of the Web API and RTM URLs")
	fs.BoolVar(&c.JSON, "json", false, "also print the result as one JSON line (for `chatbridge-load summarize`)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Listeners < 0 {
		c.Listeners = c.Agents
	}
	return c, c.validate()
}

func (c *config) validate() error {
	switch {
	case c.AdminToken == "":
		return errors.New("--admin-token is required (the Web API calls run as that owner)")
	case (c.Username == "") != (c.Password == ""):
		return errors.New("--username and --password go together")
	case c.Agents < 0 || c.Agents > maxAgents:
		return fmt.Errorf("--agents must be 0..%d", maxAgents)
	case c.Listeners > c.Agents:
		return errors.New("--listeners cannot exceed --agents")
	case c.Chats < 1 || c.Chats > maxChats:
		return fmt.Errorf("--chats must be 1..%d", maxChats)
	case c.Rate < 0 || c.Rate > maxRate:
		return fmt.Errorf("--rate must be 0..%d", maxRate)
	case c.Duration <= 0 || c.Duration > maxDuration:
		return fmt.Errorf("--duration must be in (0, %s]", maxDuration)
	case c.ConnectTimeout <= 0 || c.ConnectTimeout > maxConnectTime:
		return fmt.Errorf("--connect-timeout must be in (0, %s]", maxConnectTime)
	case c.Settle < 0 || c.Settle > time.Minute:
		return errors.New("--settle must be 0..1m")
	case c.Concurrency < 1 || c.Concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency must be 1..%d", maxConcurrency)
	case c.DialConcurrency < 1 || c.DialConcurrency > maxConcurrency:
		return fmt.Errorf("--dial-concurrency must be 1..%d", maxConcurrency)
	}
	return checkOpenFiles(c.Agents + c.Concurrency + fdReserve)
}

// checkOpenFiles refuses a run this process could not hold open (Go raises
// the soft limit to the hard one at start-up).
func checkOpenFiles(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // unknown: let the dials report it
	}
	if uint64(need) > lim.Cur {
		return fmt.Errorf("this run needs about %d open files, the limit is %d: lower --agents", need, lim.Cur)
	}
	return nil
}

// resolveLoopback turns host:port into ip:port with a loopback IP, refusing
// any name or address that is (or resolves to anything) not loopback. The
// run then dials that IP only, so a later DNS answer cannot redirect it.
func resolveLoopback(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("--addr %q: port must be 1..65535", addr)
	}
	if host == "" {
		return "", fmt.Errorf("--addr %q: name the host (127.0.0.1, [::1] or localhost)", addr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if ips, err = net.DefaultResolver.LookupNetIP(rctx, "ip", host); err != nil {
			return "", fmt.Errorf("--addr %q: %w", addr, err)
		}
	}
	var pick netip.Addr
	for _, ip := range ips {
		ip = ip.Unmap()
		if !ip.IsLoopback() {
			return "", fmt.Errorf("--addr %q: %s is not a loopback address; chatbridge-load only targets this machine", addr, ip)
		}
		if !pick.IsValid() || (ip.Is4() && !pick.Is4()) { // prefer IPv4, as servers usually listen there
			pick = ip
		}
	}
	if !pick.IsValid() {
		return "", fmt.Errorf("--addr %q: no address", addr)
	}
	return net.JoinHostPort(pick.String(), port), nil
}
