package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// socket is one agent RTM connection. Its reader goroutine is its only
// reader; writes (login, then close) happen before the reader starts or
// after the run has ended, never concurrently with each other.
type socket struct {
	ws       *websocket.Conn
	listener bool
	done     chan struct{} // closed when the reader returns
}

// loginFrame is an agent RTM login. Listeners take every push; the other
// sockets subscribe to one push the run never causes, so they stay idle
// (logged in, pinged by the server) while the hub still considers them for
// each event.
func (r *runner) loginFrame(listener bool) []byte {
	payload := map[string]any{"token": "Bearer " + r.rtmToken}
	if !listener {
		payload["pushes"] = map[string][]string{r.cfg.Version: {"chat_deactivated"}}
	}
	b, _ := json.Marshal(map[string]any{"action": "login", "request_id": "login", "payload": payload})
	return b
}

// openSockets opens cfg.Agents sockets, cfg.DialConcurrency at a time,
// each logged in before it counts.
func (r *runner) openSockets(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	defer cancel()
	dialer := &websocket.Dialer{
		NetDialContext:   (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
	}
	url := "ws://" + r.addr + "/v" + r.cfg.Version + "/agent/rtm/ws"
	next := atomic.Int64{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range min(r.cfg.DialConcurrency, r.cfg.Agents) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= r.cfg.Agents || ctx.Err() != nil {
					return
				}
				start := time.Now()
				s, err := r.openSocket(ctx, dialer, url, i < r.cfg.Listeners)
				if err != nil {
					r.countError("connect_" + socketErrKind(err))
					r.connectErrors.Add(1)
					continue
				}
				r.connectLat.add(time.Since(start))
				mu.Lock()
				r.sockets = append(r.sockets, s)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func (r *runner) openSocket(ctx context.Context, dialer *websocket.Dialer, url string, listener bool) (*socket, error) {
	ws, resp, err := dialer.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	if d := time.Now().Add(30 * time.Second); deadline.IsZero() || d.Before(deadline) {
		deadline = d
	}
	_ = ws.SetWriteDeadline(deadline)
	if err := ws.WriteMessage(websocket.TextMessage, r.loginFrame(listener)); err != nil {
		ws.Close()
		return nil, err
	}
	_ = ws.SetReadDeadline(deadline)
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, err
		}
		var f struct {
			RequestID string          `json:"request_id"`
			Type      string          `json:"type"`
			Success   bool            `json:"success"`
			Payload   json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(msg, &f) != nil || f.Type != "response" || f.RequestID != "login" {
			continue
		}
		if !f.Success {
			ws.Close()
			return nil, fmt.Errorf("login refused: %s", f.Payload)
		}
		break
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	s := &socket{ws: ws, listener: listener, done: make(chan struct{})}
	go r.readSocket(s)
	return s, nil
}

// pushFrame is the part of a push the run reads.
type pushFrame struct {
	Action  string `json:"action"`
	Payload struct {
		Reason string `json:"reason"`
		Event  struct {
			Text string `json:"text"`
		} `json:"event"`
	} `json:"payload"`
}

var incomingEvent = []byte(`"incoming_event"`)

// readSocket reads until the socket ends: listeners time the run's own
// incoming_event pushes; every socket notes why the server dropped it.
func (r *runner) readSocket(s *socket) {
	defer close(s.done)
	reason := ""
	for {
		_, msg, err := s.ws.ReadMessage()
		if err != nil {
			if !r.closing.Load() {
				r.drops.Add(1)
				if reason == "" {
					reason = socketErrKind(err)
				}
				r.countError("drop_" + reason)
			}
			return
		}
		now := time.Now()
		if s.listener && bytes.Contains(msg, incomingEvent) {
			var f pushFrame
			if json.Unmarshal(msg, &f) == nil && f.Action == "incoming_event" {
				if seq, ok := r.parseText(f.Payload.Event.Text); ok {
					if start := r.starts[seq].Load(); start != 0 {
						r.pushLat.add(now.Sub(time.Unix(0, start)))
						r.pushes.Add(1)
					}
				}
			}
			continue
		}
		if bytes.Contains(msg, []byte(`_disconnected"`)) {
			var f pushFrame
			if json.Unmarshal(msg, &f) == nil && strings.HasSuffix(f.Action, "_disconnected") {
				reason = "disconnected_" + f.Payload.Reason
			}
		}
	}
}

// eventText marks an event with the run and its sequence number.
func (r *runner) eventText(seq int) string {
	return "cbload " + r.runID + " " + strconv.Itoa(seq)
}

// parseText finds the sequence number of one of this run's events.
func (r *runner) parseText(text string) (int, bool) {
	rest, ok := strings.CutPrefix(text, "cbload "+r.runID+" ")
	if !ok {
		return 0, false
	}
	seq, err := strconv.Atoi(rest)
	if err != nil || seq < 0 || seq >= len(r.starts) {
		return 0, false
	}
	return seq, true
}

// closeSockets closes every socket with a normal close frame and waits
// (bounded) for the readers.
func (r *runner) closeSockets() {
	r.closing.Store(true)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, s := range r.sockets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "load run over")
			_ = s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			select {
			case <-s.done: // the server answered the close
			case <-time.After(2 * time.Second):
			}
			s.ws.Close()
			<-s.done
		})
	}
	wg.Wait()
}

// socketErrKind names a socket failure for the error counts.
func socketErrKind(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return "close_" + strconv.Itoa(ce.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	if errors.Is(err, websocket.ErrBadHandshake) {
		return "bad_handshake"
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "login refused"):
		return "login_refused"
	case strings.Contains(s, "connection refused"):
		return "connection_refused"
	case strings.Contains(s, "connection reset"), strings.Contains(s, "EOF"):
		return "connection_reset"
	case strings.Contains(s, "too many open files"):
		return "too_many_open_files"
	case strings.Contains(s, "cannot assign requested address"):
		return "no_local_port"
	}
	return "other"
}
