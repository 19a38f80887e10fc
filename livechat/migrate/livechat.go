package migrate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/api"
)

// The files of a LiveChat migration directory.
const (
	GroupsFile    = "groups.json"
	AgentsFile    = "agents.json"
	CustomersFile = "customers.json"
	ChatsFile     = "chats.jsonl"
)

// Files lists the files of a migration directory in import order.
var Files = []string{GroupsFile, AgentsFile, CustomersFile, ChatsFile}

// version is the LiveChat API version whose shapes the files hold.
const version = "3.5"

// Record kinds of reports and progress.
const (
	kindGroups    = "groups"
	kindAgents    = "agents"
	kindCustomers = "customers"
	kindChats     = "chats"
	kindThreads   = "threads"
	kindEvents    = "events"
)

// agentFields are every get_agent field (livechat/api's list).
var agentFields = map[string]bool{"work_scheduler": true, "groups": true, "email_subscriptions": true, "notifications": true,
	"job_title": true, "mobile": true, "max_chats_count": true, "suspended": true, "awaiting_approval": true}

// botFields are every get_bot field.
var botFields = map[string]bool{"groups": true, "work_scheduler": true, "job_title": true, "max_chats_count": true,
	"timezone": true, "default_group_priority": true, "owner_client_id": true}

// ExportLiveChat writes every group, agent, customer and chat of svc's store
// into dir in the LiveChat format (doc.go), creating dir. It refuses a dir
// that holds any of the format's files already. Chats are streamed, one line
// each; step hears every record written.
func ExportLiveChat(ctx context.Context, svc *livechat.Service, dir string, step livechat.Progress) (*livechat.MigrationReport, error) {
	if step == nil {
		step = func(string) {}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	for _, name := range Files {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("export: %s already holds %s; export into an empty directory", dir, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	ex := &exporter{svc: svc, rep: livechat.NewMigrationReport(), step: step}
	var written []string
	for _, part := range []struct {
		name  string
		write func(context.Context, *bufio.Writer) error
	}{
		{GroupsFile, ex.groups}, {AgentsFile, ex.agents}, {CustomersFile, ex.customers}, {ChatsFile, ex.chats},
	} {
		path := filepath.Join(dir, part.name)
		err := writeFile(path, func(w *bufio.Writer) error { return part.write(ctx, w) })
		if err == nil || !errors.Is(err, fs.ErrExist) {
			written = append(written, path)
		}
		if err != nil {
			for _, p := range written {
				_ = os.Remove(p) // leave no half export behind: a second run would refuse the dir
			}
			return ex.rep, fmt.Errorf("export %s: %w", part.name, err)
		}
	}
	if err := ex.dropTags(ctx); err != nil {
		return ex.rep, err
	}
	return ex.rep, nil
}

// writeFile creates path (never over an existing file) and fills it.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// marshal encodes v as one line of compact JSON, without HTML escaping, so
// messages read as they were written.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// arrayWriter streams a JSON array, one item per line.
type arrayWriter struct {
	w *bufio.Writer
	n int
}

func (a *arrayWriter) add(v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	sep := ",\n"
	if a.n == 0 {
		sep = "[\n"
	}
	a.n++
	if _, err := a.w.WriteString(sep); err != nil {
		return err
	}
	_, err = a.w.Write(b)
	return err
}

func (a *arrayWriter) close() error {
	end := "\n]\n"
	if a.n == 0 {
		end = "[]\n"
	}
	_, err := a.w.WriteString(end)
	return err
}

// add counts n records of kind in a report's tally, leaving no zero entries.
func add(tally map[string]int, kind string, n int) {
	if n > 0 {
		tally[kind] += n
	}
}

// exporter writes one export.
type exporter struct {
	svc  *livechat.Service
	rep  *livechat.MigrationReport
	step livechat.Progress
}

func (ex *exporter) done(kind string) {
	ex.rep.Count(kind, true)
	ex.step(kind)
}

func (ex *exporter) groups(ctx context.Context, w *bufio.Writer) error {
	out := &arrayWriter{w: w}
	err := ex.svc.EachGroup(ctx, func(g *livechat.Group) error {
		m, err := api.ConfigGroup(ctx, ex.svc, g, map[string]bool{"agent_priorities": true})
		if err != nil {
			return err
		}
		if err := out.add(m); err != nil {
			return err
		}
		ex.done(kindGroups)
		return nil
	})
	if err != nil {
		return err
	}
	return out.close()
}

func (ex *exporter) agents(ctx context.Context, w *bufio.Writer) error {
	out := &arrayWriter{w: w}
	err := ex.svc.EachAgent(ctx, func(a *livechat.Agent) error {
		if err := out.add(ex.agent(a)); err != nil {
			return err
		}
		ex.done(kindAgents)
		return nil
	})
	if err != nil {
		return err
	}
	return out.close()
}

// agent renders a. Agents are get_agent items, bots get_bot items, both with
// chatbridge's extensions (doc.go).
func (ex *exporter) agent(a *livechat.Agent) api.M {
	var m api.M
	if a.Kind == livechat.AgentKindBot {
		m = api.ConfigBot(a, version, botFields)
		m["kind"] = livechat.AgentKindBot
		m["account_id"] = a.AccountID
		m["login_status"] = loginStatus(a.RoutingStatus, true)
		if a.BotSecretHash != "" {
			ex.rep.Drop("bot secrets: credentials are not exported (reset_bot_secret after import)")
		}
		if a.OwnerID != "" {
			ex.rep.Drop("bot owners (the agent who created a bot): list_bots items do not say")
		}
		if a.BotTemplate {
			ex.rep.Drop("bot template marks: templates are exported as plain bots")
		}
	} else {
		m = api.ConfigAgent(a, version, agentFields)
		if a.PasswordHash != "" {
			ex.rep.Drop("agent passwords: credentials are not exported (set them again after import)")
		}
	}
	m["username"] = a.Username
	return m
}

// loginStatus names a routing status the Configuration API way (bots may
// also be offline).
func loginStatus(routing string, bot bool) string {
	switch {
	case routing == livechat.RoutingAccepting:
		return "accepting chats"
	case routing == livechat.RoutingOffline && bot:
		return "offline"
	}
	return "not accepting chats"
}

func (ex *exporter) customers(ctx context.Context, w *bufio.Writer) error {
	out := &arrayWriter{w: w}
	err := ex.svc.EachCustomer(ctx, func(c *livechat.Customer) error {
		m := api.Customer(c)
		if c.LastVisit != nil {
			m["last_visit"] = visitOut(c.LastVisit)
		}
		if c.AgentLastEventAt != nil {
			m["agent_last_event_created_at"] = api.Timestamp(*c.AgentLastEventAt)
		}
		if c.CustomerLastEventAt != nil {
			m["customer_last_event_created_at"] = api.Timestamp(*c.CustomerLastEventAt)
		}
		if c.BannedUntil != nil {
			m["banned_until"] = api.Timestamp(*c.BannedUntil)
		}
		if len(c.Followers) > 0 {
			ex.rep.Drop("customer followers: the customer object says only whether it is followed")
		}
		if err := out.add(m); err != nil {
			return err
		}
		ex.done(kindCustomers)
		return nil
	})
	if err != nil {
		return err
	}
	return out.close()
}

// visitOut renders a customer's last visit (3.5 last_visit).
func visitOut(v *livechat.Visit) api.M {
	pages := make([]api.M, 0, len(v.LastPages))
	for _, p := range v.LastPages {
		pm := api.M{"opened_at": api.Timestamp(p.OpenedAt), "url": p.URL}
		if p.Title != "" {
			pm["title"] = p.Title
		}
		pages = append(pages, pm)
	}
	m := api.M{"started_at": api.Timestamp(v.StartedAt), "last_pages": pages}
	if v.ID != 0 {
		m["id"] = v.ID
	}
	if v.EndedAt != nil {
		m["ended_at"] = api.Timestamp(*v.EndedAt)
	}
	for k, s := range map[string]string{"referrer": v.Referrer, "ip": v.IP, "user_agent": v.UserAgent} {
		if s != "" {
			m[k] = s
		}
	}
	return m
}

func (ex *exporter) chats(ctx context.Context, w *bufio.Writer) error {
	return ex.svc.EachChat(ctx, func(c *livechat.Chat, threads []livechat.Thread, events []livechat.Event) error {
		m, err := ex.chat(ctx, c, threads, events)
		if err != nil {
			return fmt.Errorf("chat %s: %w", c.ID, err)
		}
		b, err := marshal(m)
		if err != nil {
			return fmt.Errorf("chat %s: %w", c.ID, err)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
		ex.done(kindChats)
		return nil
	})
}

// chat renders a chat as the agents' get_chat does (as the system: no
// is_followed), with every thread instead of one.
func (ex *exporter) chat(ctx context.Context, c *livechat.Chat, threads []livechat.Thread, events []livechat.Event) (api.M, error) {
	m, err := api.Chat(ctx, ex.svc, livechat.System(), &livechat.ChatView{Chat: c}, version)
	if err != nil {
		return nil, err
	}
	byThread := make(map[string][]livechat.Event, len(threads))
	for _, e := range events {
		byThread[e.ThreadID] = append(byThread[e.ThreadID], e)
	}
	out := make([]api.M, 0, len(threads))
	for i := range threads {
		t := &threads[i]
		tm := api.Thread(t, byThread[t.ID], version)
		if !t.Active && t.ClosedAt != nil {
			tm["closed_at"] = api.Timestamp(*t.ClosedAt)
		}
		out = append(out, tm)
		ex.rep.Count(kindThreads, true)
		add(ex.rep.Written, kindEvents, len(byThread[t.ID]))
		delete(byThread, t.ID)
	}
	for _, orphans := range byThread {
		for range orphans {
			ex.rep.Drop("events of threads missing from the store")
		}
	}
	m["threads"] = out
	if c.Continuous {
		ex.rep.Drop("the continuous flag of chats: the chat object has no such field")
	}
	if len(c.Followers) > 0 {
		ex.rep.Drop("chat followers: the chat object says only whether the reader follows it")
	}
	return m, nil
}

// dropTags reports the tag definitions the format leaves out.
func (ex *exporter) dropTags(ctx context.Context) error {
	tags, err := ex.svc.ListTags(ctx, livechat.System(), nil)
	if err != nil {
		return err
	}
	for range tags {
		ex.rep.Drop("tag definitions (list_tags): not part of the format; thread tags are kept")
	}
	return nil
}
