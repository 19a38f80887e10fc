package main

import (
	"github.com/chatbridge/chatbridge/livechat/webhooks"
	"net/url"

	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is every setting of chatbridge; each flag has an env var.
type config struct {
	Addr           string
	DataDir        string
	MongoURI       string
	MongoDB        string
	OrganizationID string
	LicenseID      int64
	AdminEmail     string
	AdminPassword  string
	AdminToken     string
	LogLevel       string
	LogFormat      string
	TLSCert        string
	TLSKey         string
	// ThreadIdleTimeout closes a thread after this long without an event.
	ThreadIdleTimeout time.Duration
	// WebhookRetrySchedule is the comma-separated waits between webhook retries ("none": no retries).
	WebhookRetrySchedule string
	// NATSURL turns on cross-instance fan-out through that NATS server.
	NATSURL string
	// PublicURL is the server's address as clients reach it.
	PublicURL string
}

// setting describes one flag and its env var, so the README table and the
// --help text come from one list.
type setting struct {
	flag, env, def, help string
	target               any
}

func (c *config) settings() []setting {
	return []setting{
		{"addr", "CHATBRIDGE_ADDR", ":8080", "listen address", &c.Addr},
		{"data-dir", "CHATBRIDGE_DATA_DIR", "./data", "directory of the embedded store", &c.DataDir},
		{"mongo-uri", "CHATBRIDGE_MONGO_URI", "", "MongoDB URI; empty runs the embedded FerretDB in --data-dir", &c.MongoURI},
		{"mongo-db", "CHATBRIDGE_MONGO_DB", "chatbridge", "database name", &c.MongoDB},
		{"organization-id", "CHATBRIDGE_ORGANIZATION_ID", "", "organization id (UUID) to use on first start instead of a generated one", &c.OrganizationID},
		{"license-id", "CHATBRIDGE_LICENSE_ID", "0", "license id (number) to use on first start instead of a generated one", &c.LicenseID},
		{"admin-email", "CHATBRIDGE_ADMIN_EMAIL", "", "ensure an owner agent with this e-mail exists", &c.AdminEmail},
		{"admin-password", "CHATBRIDGE_ADMIN_PASSWORD", "", "password of the --admin-email owner", &c.AdminPassword},
		{"admin-token", "CHATBRIDGE_ADMIN_TOKEN", "", "a Bearer token that authenticates as the --admin-email owner", &c.AdminToken},
		{"log-level", "CHATBRIDGE_LOG_LEVEL", "info", "debug, info, warn or error", &c.LogLevel},
		{"log-format", "CHATBRIDGE_LOG_FORMAT", "text", "text or json", &c.LogFormat},
		{"tls-cert", "CHATBRIDGE_TLS_CERT", "", "PEM certificate: serve HTTPS and WSS on --addr", &c.TLSCert},
		{"tls-key", "CHATBRIDGE_TLS_KEY", "", "PEM private key of --tls-cert", &c.TLSKey},
		{"webhook-retry-schedule", "CHATBRIDGE_WEBHOOK_RETRY_SCHEDULE", "10s,20s,30s", "waits between webhook delivery retries, comma-separated (none = no retries)", &c.WebhookRetrySchedule},
		{"thread-idle-timeout", "CHATBRIDGE_THREAD_IDLE_TIMEOUT", "30m", "close a thread after this long without an event (at least 1s)", &c.ThreadIdleTimeout},
		{"public-url", "CHATBRIDGE_PUBLIC_URL", "", "the server's address as clients reach it, e.g. https://chat.example.com (upload links, Rocket.Chat Site_Url); empty: each request's own", &c.PublicURL},
		{"nats-url", "CHATBRIDGE_NATS_URL", "", "NATS server (nats://host:4222) carrying pushes between instances that share one store; empty: one instance", &c.NATSURL},
	}
}

// parseConfig reads flags (over env vars, over defaults) for subcommand name.
func parseConfig(name string, args []string, out io.Writer, extra func(*flag.FlagSet)) (*config, *flag.FlagSet, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	for _, s := range c.settings() {
		def := s.def
		if v, ok := os.LookupEnv(s.env); ok {
			def = v
		}
		help := fmt.Sprintf("%s (env %s)", s.help, s.env)
		switch t := s.target.(type) {
		case *string:
			fs.StringVar(t, s.flag, def, help)
		case *int64:
			n, err := strconv.ParseInt(def, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %q is not a number", s.env, def)
			}
			fs.Int64Var(t, s.flag, n, help)
		case *time.Duration:
			d, err := time.ParseDuration(def)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %q is not a duration", s.env, def)
			}
			fs.DurationVar(t, s.flag, d, help)
		}
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return c, fs, c.validate()
}

func (c *config) validate() error {
	if (c.AdminPassword != "" || c.AdminToken != "") && c.AdminEmail == "" {
		return fmt.Errorf("--admin-password and --admin-token need --admin-email")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return fmt.Errorf("--admin-token must be at least 16 characters")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format must be text or json")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if _, err := webhooks.ParseSchedule(c.WebhookRetrySchedule); err != nil {
		return fmt.Errorf("--webhook-retry-schedule: %w", err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if c.ThreadIdleTimeout < time.Second {
		return fmt.Errorf("--thread-idle-timeout must be at least 1s")
	}
	if c.MongoURI == "" && c.DataDir == "" {
		return fmt.Errorf("--data-dir is required with the embedded store")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("--public-url must be an http or https URL such as https://chat.example.com")
		}
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("--log-level must be debug, info, warn or error")
	}
	return l, nil
}

func (c *config) logger(w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
