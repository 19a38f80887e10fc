package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// compressMinBytes: smaller messages are sent uncompressed even when
// permessage-deflate was negotiated (deflate costs more than it saves there).
const compressMinBytes = 512

// maxCloseReasonBytes is what fits a close control frame after the 2-byte code.
const maxCloseReasonBytes = 123

// sockJSFrameSlack is room for a SockJS frame's brackets, quotes and commas.
const sockJSFrameSlack = 1024

// WebSocketHandler upgrades a request to a raw websocket (one message per
// text frame, no wrapper) and runs h on it. It checks nothing about
// authentication (sessions authenticate in-band), allows any Origin (SDKs
// send none and widgets are cross-origin) and offers permessage-deflate.
// A request that is not a valid upgrade gets the echo error (400, 405, …)
// so the server's one error handler writes it.
func WebSocketHandler(cfg TransportConfig, h StreamHandler) echo.HandlerFunc {
	cfg = cfg.withDefaults()
	up := newUpgrader(cfg)
	return func(c echo.Context) error { return serveStream(c, up, cfg, false, h) }
}

func newUpgrader(cfg TransportConfig) *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: cfg.HandshakeTimeout,
		// Idle sockets hold no write buffer between messages.
		WriteBufferPool:   &sync.Pool{},
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: true,
	}
}

// serveStream upgrades, runs the handler on the request's goroutine and
// closes the stream when it returns. sjs selects SockJS framing.
func serveStream(c echo.Context, base *websocket.Upgrader, cfg TransportConfig, sjs bool, h StreamHandler) error {
	var refused *echo.HTTPError
	up := *base
	up.Error = func(_ http.ResponseWriter, _ *http.Request, status int, reason error) {
		refused = echo.NewHTTPError(status, reason.Error())
	}
	ws, err := up.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		if refused != nil {
			return refused
		}
		// The connection was hijacked and then failed: nothing can be written.
		cfg.Logger.Debug("websocket handshake failed", "err", err)
		return nil
	}
	c.Response().Status = http.StatusSwitchingProtocols

	kind := KindWebSocket
	if sjs {
		kind = KindSockJS
	}
	remote := c.RealIP()
	log := cfg.Logger.With("kind", kind, "remote", remote,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	s := newWSStream(ws, cfg, sjs, remote, log, cancel)
	go s.readLoop()
	start := time.Now()
	defer func() {
		_ = s.Close(CloseNormal, "")
		log.Debug("stream closed", "cause", s.err(), "duration", time.Since(start))
	}()
	if sjs {
		if err := s.writeText(ctx, sockJSOpenFrame); err != nil {
			return nil
		}
	}
	log.Debug("stream open")
	h(ctx, s)
	return nil
}

// wsStream is a Stream over one gorilla websocket, raw or SockJS-framed.
//
// Goroutines: readLoop is the socket's only reader. Text frames are written
// by whoever holds wtoken: the session's writer (Write) and, for SockJS,
// Ping's `h` and Close's `c[...]`, each holding it for exactly one frame
// write with a deadline. Control frames (ping, close, pong) go through
// gorilla's WriteControl, which is safe concurrently with everything.
type wsStream struct {
	ws     *websocket.Conn
	cfg    TransportConfig
	sjs    bool
	remote string
	log    *slog.Logger

	in       chan []byte   // readLoop → Read; capacity cfg.ReadQueue
	readDone chan struct{} // closed when readLoop has returned
	closing  chan struct{} // closed once the socket is ending: nothing more is queued or written
	wtoken   chan struct{} // capacity 1: held for one text-frame write
	last     atomic.Int64  // unix nanoseconds of the last inbound frame

	cancel context.CancelFunc // ends the handler's context

	closingOnce sync.Once
	closeOnce   sync.Once

	mu    sync.Mutex
	cause error // must hold mu; the first reason the socket ended
}

func newWSStream(ws *websocket.Conn, cfg TransportConfig, sjs bool, remote string, log *slog.Logger, cancel context.CancelFunc) *wsStream {
	s := &wsStream{
		ws:       ws,
		cancel:   cancel,
		cfg:      cfg,
		sjs:      sjs,
		remote:   remote,
		log:      log,
		in:       make(chan []byte, cfg.ReadQueue),
		readDone: make(chan struct{}),
		closing:  make(chan struct{}),
		wtoken:   make(chan struct{}, 1),
	}
	s.touch()
	// Generous wire-level backstop; the exact limit is enforced on the
	// decompressed (and, for SockJS, decoded) bytes in readLoop.
	ws.SetReadLimit(4*int64(s.frameLimit()) + 1024)
	ws.SetPongHandler(func(string) error { s.touch(); return nil })
	ws.SetPingHandler(func(data string) error {
		s.touch()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(cfg.WriteTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return nil // the writer is busy; the client will ping again
			}
			return err
		}
		return nil
	})
	return s
}

// frameLimit is the largest inbound frame accepted: SockJS frames carry JSON
// strings, so escaping may double a message's size (plus the brackets).
func (s *wsStream) frameLimit() int {
	if s.sjs {
		return 2*s.cfg.MaxMessageBytes + sockJSFrameSlack
	}
	return s.cfg.MaxMessageBytes
}

func (s *wsStream) Kind() string {
	if s.sjs {
		return KindSockJS
	}
	return KindWebSocket
}

func (s *wsStream) RemoteAddr() string { return s.remote }

func (s *wsStream) LastActivity() time.Time { return time.Unix(0, s.last.Load()) }

func (s *wsStream) touch() { s.last.Store(time.Now().UnixNano()) }

func (s *wsStream) Read(ctx context.Context) ([]byte, error) {
	select {
	case m := <-s.in:
		return m, nil
	case <-s.readDone:
		return s.drained()
	case <-ctx.Done():
		// The handler's ctx ends because the socket did: report why.
		select {
		case <-s.readDone:
			return s.drained()
		default:
			return nil, ctx.Err()
		}
	}
}

// drained returns what is left once the reader has stopped: queued
// messages, then the terminal error.
func (s *wsStream) drained() ([]byte, error) {
	select {
	case m := <-s.in:
		return m, nil
	default:
		return nil, s.err()
	}
}

func (s *wsStream) Write(ctx context.Context, msg []byte) error {
	frame := msg
	if s.sjs {
		frame = appendSockJSMessage(make([]byte, 0, len(msg)+len(msg)/8+8), msg)
	}
	return s.writeText(ctx, frame)
}

func (s *wsStream) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.isClosing() {
		return ErrClosed
	}
	if s.sjs {
		// SockJS clients only see text frames; the websocket ping below
		// additionally makes browsers' automatic pongs count as activity.
		if err := s.writeText(ctx, sockJSHeartbeatFrame); err != nil {
			return err
		}
	}
	if err := s.ws.WriteControl(websocket.PingMessage, nil, s.writeDeadline(ctx)); err != nil {
		if errors.Is(err, websocket.ErrCloseSent) {
			return ErrClosed
		}
		s.fail(err)
		return fmt.Errorf("%w: ping: %w", ErrClosed, err)
	}
	return nil
}

func (s *wsStream) Close(code int, reason string) error {
	s.initiateClose(code, reason)
	<-s.readDone
	s.cancel() // readLoop does too, just after readDone; don't return before it
	return nil
}

// writeText writes one text frame while holding the write token.
func (s *wsStream) writeText(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.wtoken <- struct{}{}:
	case <-s.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.wtoken }()
	if s.isClosing() { // Close may have won the race for the token
		return ErrClosed
	}
	if err := s.writeFrameLocked(frame, s.writeDeadline(ctx)); err != nil {
		if errors.Is(err, websocket.ErrCloseSent) {
			return ErrClosed // Close is under way; let it wait for the client's reply
		}
		s.fail(err)
		return fmt.Errorf("%w: write: %w", ErrClosed, err)
	}
	return nil
}

// writeFrameLocked writes a text frame. Must hold wtoken.
func (s *wsStream) writeFrameLocked(frame []byte, deadline time.Time) error {
	if err := s.ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	s.ws.EnableWriteCompression(len(frame) >= compressMinBytes)
	return s.ws.WriteMessage(websocket.TextMessage, frame)
}

func (s *wsStream) writeDeadline(ctx context.Context) time.Time {
	d := time.Now().Add(s.cfg.WriteTimeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// readLoop is the socket's reader goroutine. It ends when the connection
// does; on the way out it closes the connection, cancels the handler's
// context and closes readDone.
func (s *wsStream) readLoop() {
	defer func() {
		s.setCause(ErrClosed)
		s.markClosing()
		_ = s.ws.Close()
		close(s.readDone) // before cancel, so Read prefers the stream's error to ctx's
		s.cancel()
	}()
	for {
		typ, r, err := s.ws.NextReader()
		if err != nil {
			s.setCause(readError(err))
			return
		}
		s.touch()
		if s.isClosing() {
			continue // draining until the client's close reply or the deadline
		}
		if typ == websocket.BinaryMessage {
			s.abort(ErrBinaryMessage, CloseUnsupportedData, "binary messages are not supported")
			continue
		}
		data, err := readAtMost(r, s.frameLimit())
		if errors.Is(err, ErrMessageTooLarge) {
			s.abort(ErrMessageTooLarge, CloseMessageTooBig, "message too big")
			continue
		}
		if err != nil {
			s.setCause(readError(err))
			return
		}
		if !s.sjs {
			s.deliver(data)
			continue
		}
		msgs, err := decodeSockJSFrame(data)
		if err != nil {
			s.abort(ErrBadFrame, CloseSockJSGoAway, "Broken framing.")
			continue
		}
		for _, m := range msgs {
			if len(m) > s.cfg.MaxMessageBytes {
				s.abort(ErrMessageTooLarge, CloseMessageTooBig, "message too big")
				break
			}
			s.deliver(m)
		}
	}
}

// deliver queues a message for Read, waiting while the queue is full.
func (s *wsStream) deliver(m []byte) {
	if s.isClosing() {
		return
	}
	select {
	case s.in <- m:
	case <-s.closing:
	}
}

// abort ends the socket because of a client protocol error.
func (s *wsStream) abort(cause error, code int, reason string) {
	s.log.Debug("closing stream on client error", "err", cause)
	s.setCause(cause)
	s.initiateClose(code, reason)
}

// initiateClose sends the closing frames once and gives the reader a
// deadline for the client's close reply. It never waits for the reader, so
// readLoop may call it.
func (s *wsStream) initiateClose(code int, reason string) {
	s.closeOnce.Do(func() {
		s.setCause(fmt.Errorf("%w by server (%d %s)", ErrClosed, code, reason))
		s.markClosing()
		deadline := time.Now().Add(s.cfg.closeGrace())
		if s.sjs {
			if !s.acquireUntil(deadline) {
				_ = s.ws.Close() // the writer is stuck on this client
				return
			}
			err := s.writeFrameLocked(sockJSCloseFrame(code, reason), deadline)
			<-s.wtoken
			if err != nil {
				_ = s.ws.Close()
				return
			}
		}
		msg := websocket.FormatCloseMessage(wsCloseCode(code), truncateUTF8(reason, maxCloseReasonBytes))
		if err := s.ws.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
			_ = s.ws.Close()
			return
		}
		// net.Conn deadlines are safe to set from any goroutine; gorilla's
		// own SetReadDeadline is not, so go around it.
		_ = s.ws.NetConn().SetReadDeadline(deadline)
	})
}

// acquireUntil takes the write token, giving up at deadline.
func (s *wsStream) acquireUntil(deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case s.wtoken <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// fail ends the socket after a write error: the reader stops and the
// handler's context is canceled.
func (s *wsStream) fail(err error) {
	s.setCause(fmt.Errorf("%w: write: %w", ErrClosed, err))
	s.markClosing()
	_ = s.ws.Close()
}

func (s *wsStream) markClosing() { s.closingOnce.Do(func() { close(s.closing) }) }

func (s *wsStream) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func (s *wsStream) setCause(err error) {
	s.mu.Lock()
	if s.cause == nil {
		s.cause = err
	}
	s.mu.Unlock()
}

func (s *wsStream) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// readAtMost reads a whole message, failing with ErrMessageTooLarge past n
// bytes (counted after decompression, so deflate bombs stop there too).
func readAtMost(r io.Reader, n int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(n)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > n {
		return nil, ErrMessageTooLarge
	}
	return b, nil
}

// readError turns a gorilla read error into the stream's terminal error.
func readError(err error) error {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%w by client (%d %s)", ErrClosed, ce.Code, ce.Text)
	case errors.Is(err, websocket.ErrReadLimit):
		return ErrMessageTooLarge
	}
	return fmt.Errorf("%w: %w", ErrClosed, err)
}

// wsCloseCode maps a code to one a websocket close frame may carry; others
// (SockJS's 2010, say, which only its c frame carries) become CloseNormal.
func wsCloseCode(code int) int {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return code
	}
	return CloseNormal
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
