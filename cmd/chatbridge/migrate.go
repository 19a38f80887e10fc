package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/chatbridge/chatbridge/bridge"
	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/migrate"
)

// Migration formats (docs/migration.md).
const (
	formatRocketChat = "rocketchat"
	formatLiveChat   = "livechat"
)

// migrateCommand is `chatbridge export` and `chatbridge import`: Rocket.Chat
// or LiveChat data out of or into the store, offline (with the embedded
// store it refuses while a server holds the data directory), with a
// progress bar on stderr and the report as JSON on stdout.
func migrateCommand(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	var format, dir string
	var quiet bool
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "", "rocketchat (mongoexport files of Rocket.Chat collections) or livechat (LiveChat API objects); required")
		what := "directory to write (created; its files must not exist)"
		if verb == "import" {
			what = "directory to read"
		}
		fs.StringVar(&dir, "dir", "", what+"; required")
		fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	}
	cfg, _, err := parseConfig(verb, args, stderr, extra)
	if err != nil {
		return err
	}
	if dir == "" || (format != formatRocketChat && format != formatLiveChat) {
		return fmt.Errorf("usage: chatbridge %s --format rocketchat|livechat --dir DIR [store flags]", verb)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, svc, err := openCore(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer func() {
		_ = svc.Close(context.Background())
		_ = store.Close(context.Background())
	}()

	total := int64(-1) // an import does not know its size: a spinner
	if verb == "export" {
		n, err := svc.CountForExport(ctx)
		if err != nil {
			return err
		}
		total = n.Groups + n.Agents + n.Customers + n.Chats
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("%s %s", verb, format)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetVisibility(!quiet),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
	)
	step := func(kind string) {
		if kind != "messages" { // messages belong to chats, which are counted
			_ = bar.Add(1)
		}
	}
	began := time.Now()
	var rep *livechat.MigrationReport
	switch {
	case format == formatRocketChat:
		b, berr := bridge.New(bridge.Config{Service: svc, Logger: log})
		if berr != nil {
			return berr
		}
		if verb == "export" {
			rep, err = b.ExportRocketChat(ctx, dir, step)
		} else {
			rep, err = b.ImportRocketChat(ctx, dir, step)
		}
	case verb == "export":
		rep, err = migrate.ExportLiveChat(ctx, svc, dir, step)
	default:
		rep, err = migrate.ImportLiveChat(ctx, svc, dir, step)
	}
	_ = bar.Finish()
	if rep != nil {
		out, _ := json.MarshalIndent(map[string]any{"format": format, verb: dir, "seconds": time.Since(began).Seconds(),
			"written": rep.Written, "skipped": rep.Skipped, "dropped": rep.Dropped}, "", "  ")
		fmt.Fprintln(stdout, string(out))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return nil
}
