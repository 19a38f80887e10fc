package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "chatbridge:", err)
		os.Exit(1)
	}
}

// run dispatches a command line; ctx ends on SIGINT/SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr, nil)
	case "agent":
		return agentCommand(ctx, args, stdout, stderr)
	case "export", "import":
		return migrateCommand(ctx, cmd, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: chatbridge [serve] [flags] | chatbridge agent create|list|token [flags] | chatbridge export|import --format rocketchat|livechat --dir DIR [flags]")
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, agent, export or import)", cmd)
}
