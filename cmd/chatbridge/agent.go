package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
)

// agentCommand is `chatbridge agent create|list|token`: agent management on
// the store, offline. With the embedded store it refuses while a server holds
// the data directory.
func agentCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: chatbridge agent create|list|token [flags]")
	}
	sub, args := args[0], args[1:]
	var (
		email, name, role, password, username, groups, tokenName string
		jsonOut                                                  bool
		ttl                                                      time.Duration
	)
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "create":
			fs.StringVar(&email, "email", "", "agent e-mail (its LiveChat id); required")
			fs.StringVar(&name, "name", "", "display name")
			fs.StringVar(&role, "role", livechat.RoleNormal, "owner, viceowner, administrator or normal")
			fs.StringVar(&password, "password", "", "password for sign-in at /v2/token and DDP login")
			fs.StringVar(&username, "username", "", "Rocket.Chat username (default derived from the e-mail)")
			fs.StringVar(&groups, "groups", "", "comma-separated group ids")
		case "token":
			fs.StringVar(&email, "email", "", "agent e-mail or username; required")
			fs.StringVar(&tokenName, "name", "cli", "a name for the token")
			fs.DurationVar(&ttl, "ttl", 0, "lifetime (0 = never expires)")
		case "list":
			fs.BoolVar(&jsonOut, "json", false, "print JSON")
		}
	}
	if sub != "create" && sub != "list" && sub != "token" {
		return fmt.Errorf("unknown agent command %q (want create, list or token)", sub)
	}
	cfg, _, err := parseConfig("agent "+sub, args, stderr, extra)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, svc, err := openCore(ctx, cfg, quiet, nil)
	if err != nil { // a held data directory already says how to proceed (mongostore.ErrDataDirLocked)
		return err
	}
	defer func() {
		_ = svc.Close(context.Background())
		_ = store.Close(context.Background())
	}()
	sys := livechat.System()

	switch sub {
	case "create":
		if email == "" {
			return fmt.Errorf("--email is required")
		}
		in := livechat.AgentInput{Email: email, Name: name, Role: role, Password: password, Username: username}
		for _, g := range strings.Split(groups, ",") {
			if g = strings.TrimSpace(g); g == "" {
				continue
			}
			id, err := strconv.Atoi(g)
			if err != nil {
				return fmt.Errorf("--groups: %q is not a group id", g)
			}
			in.Groups = append(in.Groups, livechat.GroupMembership{ID: id, Priority: "normal"})
		}
		a, err := svc.CreateAgent(ctx, sys, in)
		if livechat.IsType(err, livechat.TypeAlreadyExists) && password != "" {
			// An existing agent: set the password given, so re-running the command is safe (the role is not changed).
			if a, err = svc.GetAgent(ctx, sys, email); err == nil {
				err = svc.SetAgentPassword(ctx, sys, a.ID, password)
			}
			if err == nil {
				fmt.Fprintf(stdout, "agent %s exists; password updated\n", a.ID)
				return nil
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created agent %s (account_id %s, username %s, role %s)\n", a.ID, a.AccountID, a.Username, a.Role)
	case "list":
		agents, err := svc.ListAgents(ctx, sys)
		if err != nil {
			return err
		}
		if jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(agents)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tACCOUNT_ID\tUSERNAME\tNAME\tROLE\tKIND\tGROUPS")
		for _, a := range agents {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", a.ID, a.AccountID, a.Username, a.Name, a.Role, a.Kind, a.GroupIDs())
		}
		return tw.Flush()
	case "token":
		if email == "" {
			return fmt.Errorf("--email is required")
		}
		a, err := svc.FindAgentByLogin(ctx, email)
		if err != nil {
			return err
		}
		secret, a, err := svc.CreatePersonalAccessToken(ctx, sys, a.ID, tokenName, ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account_id: %s\ntoken:      %s\nuse as:     Authorization: Basic base64(%s:<token>)\n", a.AccountID, secret, a.AccountID)
	}
	return nil
}
