// Command chatbridge-load is a bounded load generator for one chatbridge
// server on this machine. It only targets loopback addresses, caps every
// dimension (sockets, rate, duration) and stops by itself.
//
// A run opens --agents Agent RTM websockets (all logged in as one agent: the
// admin token, or one token from the /v2/token password grant), reads the
// server's resident memory from /metrics before and after, creates --chats
// chats through the Web API (create_customer, start_chat) and calls
// send_event at --rate per second for --duration. It reports sockets opened,
// server memory per socket, send_event latency, push latency (from the
// send_event call to the incoming_event push on the --listeners subscribed
// sockets), throughput and errors.
//
//	chatbridge-load --addr 127.0.0.1:18181 --admin-token T --agents 1000 --rate 100 --json
//	chatbridge-load summarize results.jsonl   # medians per configuration
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
		fmt.Fprintln(os.Stderr, "chatbridge-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "summarize" {
		return summarize(args[1:], os.Stdin, stdout)
	}
	return runLoad(ctx, args, stdout, stderr)
}
