package ddp

import (
	"crypto/rand"
	"time"
)

// The writer side of a session: the only goroutine writing to the Conn, and
// the one that checks deadlines.

// writer is the only goroutine that writes to the Conn. It drains the
// outbox, runs the heartbeat and deadlines on each tick, and on close
// writes what is left (unless the reason says drop it) and closes the Conn.
func (s *Session) writer() {
	defer s.cancel()
	defer s.wcancel()
	tick := time.NewTicker(s.cfg.TickInterval)
	defer tick.Stop()
	hb := heartbeat{lastTransport: s.conn.LastActivity()}
	done := s.ctx.Done()
	var batch [][]byte
	broken := false
	for {
		select {
		case _, open := <-s.out.c():
			batch = s.out.pop(batch[:0])
			if r := s.reason.Load(); r != nil && r.discardQueued() {
				broken = true
			}
			for _, f := range batch {
				if broken {
					break
				}
				if err := s.conn.Write(s.wctx, f); err != nil {
					broken = true
					s.Close(CloseClientGone)
				}
			}
			clear(batch)
			if !open {
				r := s.reason.Load()
				_ = s.conn.Close(r.Code, r.Text)
				return
			}
		case <-tick.C:
			s.checkDeadlines(&hb)
		case <-done:
			done = nil
			s.Close(CloseClientGone)
		}
	}
}

// heartbeat is the writer's liveness state.
type heartbeat struct {
	lastTransport time.Time // Conn.LastActivity at the previous tick
	pinged        bool      // a ping is outstanding
	pingAt        time.Time
	seenAtPing    uint64
	seq           uint64
}

// checkDeadlines runs on each tick: the connect deadline, then Meteor's
// heartbeat (ping a client silent for PingInterval; close when nothing
// arrives within PingTimeout of the ping). Any inbound message, and any
// transport-level activity, answers a ping.
func (s *Session) checkDeadlines(hb *heartbeat) {
	now := s.cfg.Clock.Now()
	if la := s.conn.LastActivity(); !la.Equal(hb.lastTransport) {
		hb.lastTransport = la
		s.touch(now)
	}
	if !s.connected.Load() {
		if now.Sub(s.started) >= s.cfg.ConnectTimeout {
			s.Close(CloseConnectTimeout)
		}
		return
	}
	seen := s.seen.Load()
	if hb.pinged {
		if seen == hb.seenAtPing {
			if now.Sub(hb.pingAt) >= s.cfg.PingTimeout {
				s.Close(CloseHeartbeatTimeout)
			}
			return
		}
		hb.pinged = false
	}
	if now.Sub(time.Unix(0, s.lastSeen.Load())) < s.cfg.PingInterval {
		return
	}
	hb.pinged, hb.pingAt, hb.seenAtPing = true, now, seen
	if s.version == "pre1" { // no DDP ping: probe the transport
		if err := s.conn.Ping(s.wctx); err != nil {
			s.Close(CloseClientGone)
		}
		return
	}
	hb.seq++
	s.Send(framePing(hb.seq))
}

// idAlphabet is Meteor's Random.id alphabet.
const idAlphabet = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"

// RandomID returns a 17-character Meteor-style random id (the form of
// session ids and of Rocket.Chat document ids), from crypto/rand.
func RandomID() string {
	const n = 17
	// Rejection sampling keeps the alphabet uniform: 55*4 = 220 < 256.
	const limit = len(idAlphabet) * (256 / len(idAlphabet))
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, idAlphabet[int(b)%len(idAlphabet)])
			}
		}
	}
	return string(out)
}
