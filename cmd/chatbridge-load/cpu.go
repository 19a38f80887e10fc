package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSnapshot is the machine's and this process's CPU time at one instant,
// so a run can say how busy the (shared) machine was besides the server and
// the load tool: other work on the same cores skews latencies.
type cpuSnapshot struct {
	at      time.Time
	busy    float64 // seconds all CPUs spent not idle (from /proc/stat); 0 if unknown
	self    float64 // seconds this process ran
	hasBusy bool
}

func takeCPU() cpuSnapshot {
	s := cpuSnapshot{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = tv(ru.Utime) + tv(ru.Stime)
	}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return s
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && fields[0] == "cpu" {
			var total, idle float64
			for i, v := range fields[1:] {
				n, _ := strconv.ParseFloat(v, 64)
				if i >= 7 { // guest time is already counted in user
					break
				}
				total += n
				if i == 3 || i == 4 { // idle, iowait
					idle += n
				}
			}
			s.busy, s.hasBusy = (total-idle)/clockTicks, true
		}
	}
	return s
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
