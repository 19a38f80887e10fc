package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

const mib = 1 << 20

// printSummary writes one run's figures as a table.
func printSummary(w io.Writer, r *result) {
	fmt.Fprintf(w, "\nchatbridge-load: %d agent sockets (%d listening), %d chats, send_event at %.0f/s for %.0fs, server %s\n\n",
		r.Agents, r.Listeners, r.Chats, r.Rate, r.DurationSec, r.Addr)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "sockets opened\t%d of %d in %.1fs (%d failed); connect+login p50 %.1f ms, p99 %.1f ms\n",
		r.SocketsOpened, r.Agents, r.ConnectSeconds, r.ConnectErrors, r.Connect.P50, r.Connect.P99)
	fmt.Fprintf(tw, "server sockets (/metrics)\t%.0f\n", r.ServerSockets)
	fmt.Fprintf(tw, "server RSS\t%.1f MiB before, %.1f MiB with sockets, %.1f MiB at the end\n", r.RSSBase/mib, r.RSSSockets/mib, r.RSSEnd/mib)
	fmt.Fprintf(tw, "server memory per socket\t%.1f KiB RSS, %.1f KiB Go heap+stacks in use\n", r.RSSPerSocket/1024, r.HeapPerSocket/1024)
	if r.SocketsOpened > 0 {
		fmt.Fprintf(tw, "server goroutines\t%.0f before, %.0f with sockets (%.1f per socket)\n",
			r.GoroutinesBase, r.GoroutinesSock, (r.GoroutinesSock-r.GoroutinesBase)/float64(r.SocketsOpened))
	}
	fmt.Fprintf(tw, "send_event\t%d called, %d ok, %d failed; %.1f/s achieved (%.0f/s offered)\n",
		r.EventsSent, r.EventsOK, r.EventErrors, r.Throughput, r.Rate)
	fmt.Fprintf(tw, "CPU during load\tserver %.0f%% of a core, chatbridge-load %.0f%%, other processes %s\n",
		100*r.ServerCPU, 100*r.LoadCPU, otherCPUText(r.OtherCPU))
	fmt.Fprintf(tw, "send_event latency\t%s\n", latencyText(r.SendEvent))
	fmt.Fprintf(tw, "push latency (call → push)\t%s\n", latencyText(r.Push))
	fmt.Fprintf(tw, "pushes\t%d received of %d expected (%d missing)\n", r.Push.N, r.PushExpected, r.PushMissing)
	fmt.Fprintf(tw, "schedule\tmax lag %.1f ms, %d calls started >100 ms late\n", r.MaxLagMs, r.LateStarts)
	fmt.Fprintf(tw, "socket drops\t%d (slow consumers on the server: %.0f)\n", r.SocketDrops, r.SlowConsumers)
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "error\t%s × %d\n", k, r.Errors[k])
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func otherCPUText(c float64) string {
	if c < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f%%", 100*c)
}

func latencyText(l latency) string {
	if l.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.1f ms (%d samples)", l.P50, l.P95, l.P99, l.Max, l.N)
}

// column is one figure of the summarize table.
type column struct {
	name string
	get  func(*result) float64
	fmt  string
}

var columns = []column{
	{"sockets", func(r *result) float64 { return float64(r.SocketsOpened) }, "%.0f"},
	{"connect s", func(r *result) float64 { return r.ConnectSeconds }, "%.1f"},
	{"RSS MiB", func(r *result) float64 { return r.RSSSockets / mib }, "%.0f"},
	{"KiB/socket RSS", func(r *result) float64 { return r.RSSPerSocket / 1024 }, "%.1f"},
	{"KiB/socket heap+stack", func(r *result) float64 { return r.HeapPerSocket / 1024 }, "%.1f"},
	{"events/s", func(r *result) float64 { return r.Throughput }, "%.1f"},
	{"send p50 ms", func(r *result) float64 { return r.SendEvent.P50 }, "%.2f"},
	{"send p95 ms", func(r *result) float64 { return r.SendEvent.P95 }, "%.2f"},
	{"send p99 ms", func(r *result) float64 { return r.SendEvent.P99 }, "%.2f"},
	{"push p50 ms", func(r *result) float64 { return r.Push.P50 }, "%.2f"},
	{"push p95 ms", func(r *result) float64 { return r.Push.P95 }, "%.2f"},
	{"push p99 ms", func(r *result) float64 { return r.Push.P99 }, "%.2f"},
	{"server CPU %", func(r *result) float64 { return 100 * r.ServerCPU }, "%.0f"},
	{"other CPU %", func(r *result) float64 { return 100 * r.OtherCPU }, "%.0f"},
	{"errors", func(r *result) float64 { return float64(r.EventErrors + int64(r.ConnectErrors)) }, "%.0f"},
	{"drops", func(r *result) float64 { return float64(r.SocketDrops) }, "%.0f"},
	{"missing pushes", func(r *result) float64 { return float64(r.PushMissing) }, "%.0f"},
}

// summarize is `chatbridge-load summarize [file...]`: it reads the --json
// lines of several runs (other lines are skipped) and prints, per
// configuration, the median of each figure as a Markdown table.
func summarize(files []string, stdin io.Reader, w io.Writer) error {
	var runs []*result
	read := func(in io.Reader) error {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 || line[0] != '{' {
				continue
			}
			r := &result{}
			if err := json.Unmarshal(line, r); err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return sc.Err()
	}
	if len(files) == 0 {
		if err := read(stdin); err != nil {
			return err
		}
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		err = read(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	if len(runs) == 0 {
		return fmt.Errorf("no --json result lines found")
	}
	type key struct {
		agents, listeners, chats int
		rate, dur                float64
	}
	groups := map[key][]*result{}
	var order []key
	for _, r := range runs {
		k := key{r.Agents, r.Listeners, r.Chats, r.Rate, r.DurationSec}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortFunc(order, func(a, b key) int {
		for _, d := range []float64{float64(a.agents - b.agents), a.rate - b.rate, float64(a.listeners - b.listeners), float64(a.chats - b.chats), a.dur - b.dur} {
			if d != 0 {
				if d < 0 {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	head := []string{"agents", "listeners", "rate/s", "runs"}
	for _, c := range columns {
		head = append(head, c.name)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, k := range order {
		rs := groups[k]
		cells := []string{fmt.Sprint(k.agents), fmt.Sprint(k.listeners), fmt.Sprintf("%.0f", k.rate), fmt.Sprint(len(rs))}
		for _, c := range columns {
			vals := make([]float64, len(rs))
			for i, r := range rs {
				vals[i] = c.get(r)
			}
			cells = append(cells, fmt.Sprintf(c.fmt, median(vals)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	return nil
}
