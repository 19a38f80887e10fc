package rest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// SockJS support: the websocket transport only. Served under a prefix
// (`/sockjs` for DDP, `/v3.x/agent/rtm/sjs` for LiveChat's chat-sdk):
//
//	GET|OPTIONS <prefix>/info                   {"websocket":true,"origins":["*:*"],"cookie_needed":false,"entropy":N}
//	GET <prefix>/<server>/<session>/websocket   SockJS-framed websocket
//	GET <prefix>/websocket                      raw websocket (no framing)
//
// The HTTP fallbacks (xhr, xhr_send, xhr_streaming, eventsource, jsonp,
// iframe) are not supported: those paths are left to the router, which
// answers 404 in the server's JSON error shape. sockjs-client then reports
// the connection as failed. Websocket sessions resume nothing, so <server>
// and <session> are accepted with any value (except a dot, as the SockJS
// protocol requires).
//
// Framing, server to client: `o` once after the upgrade, `a["m1",...]` with
// each message as a JSON string, `h` heartbeats (Stream.Ping), and
// `c[code,"reason"]` before closing (Stream.Close). Client to server: a
// JSON array of strings, each one message, in order; a bare JSON string
// (one message) is accepted too, and, leniently like Rocket.Chat's
// ddp-streamer, a JSON object in either place is passed on as its raw text.
// Empty frames and `[]` carry nothing. Anything else (invalid JSON, numbers,
// null) is broken framing: like sockjs-node, the server answers
// `c[3000,"Broken framing."]` and closes; Read returns ErrBadFrame.

var (
	sockJSOpenFrame      = []byte("o")
	sockJSHeartbeatFrame = []byte("h")
)

// MountSockJS serves the SockJS endpoints under prefix on r (an *echo.Echo
// or *echo.Group) and runs h on each stream, raw or framed.
func MountSockJS(r Router, prefix string, cfg TransportConfig, h StreamHandler) {
	cfg = cfg.withDefaults()
	prefix = strings.TrimSuffix(prefix, "/")
	up := newUpgrader(cfg)
	r.GET(prefix+"/info", sockJSInfo)
	r.OPTIONS(prefix+"/info", sockJSInfoOptions)
	r.GET(prefix+"/websocket", func(c echo.Context) error { return serveStream(c, up, cfg, false, h) })
	r.GET(prefix+"/:server/:session/websocket", func(c echo.Context) error {
		if !sockJSPathPart(c.Param("server")) || !sockJSPathPart(c.Param("session")) {
			return echo.ErrNotFound
		}
		return serveStream(c, up, cfg, true, h)
	})
}

func sockJSPathPart(s string) bool { return s != "" && !strings.Contains(s, ".") }

// sockJSInfoBody is the /info answer; field order follows sockjs-node.
type sockJSInfoBody struct {
	Websocket    bool     `json:"websocket"`
	Origins      []string `json:"origins"`
	CookieNeeded bool     `json:"cookie_needed"`
	Entropy      uint32   `json:"entropy"`
}

func sockJSInfo(c echo.Context) error {
	sockJSCORS(c)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store, no-cache, no-transform, must-revalidate, max-age=0")
	b, err := json.Marshal(sockJSInfoBody{Websocket: true, Origins: []string{"*:*"}, Entropy: rand.Uint32()})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/json; charset=UTF-8", b)
}

// sockJSInfoOptions answers the CORS preflight, cacheable for a year.
func sockJSInfoOptions(c echo.Context) error {
	const year = 365 * 24 * time.Hour
	sockJSCORS(c)
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(year.Seconds())))
	h.Set("Expires", time.Now().Add(year).UTC().Format(http.TimeFormat))
	h.Set(echo.HeaderAccessControlAllowMethods, "OPTIONS, GET")
	h.Set(echo.HeaderAccessControlMaxAge, strconv.Itoa(int(year.Seconds())))
	return c.NoContent(http.StatusNoContent)
}

// sockJSCORS echoes the Origin (with credentials) as sockjs-node does; no
// Origin, or "null", gets "*".
func sockJSCORS(c echo.Context) {
	h := c.Response().Header()
	origin := c.Request().Header.Get(echo.HeaderOrigin)
	if origin == "" || origin == "null" {
		h.Set(echo.HeaderAccessControlAllowOrigin, "*")
	} else {
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		h.Set(echo.HeaderAccessControlAllowCredentials, "true")
	}
	h.Add(echo.HeaderVary, echo.HeaderOrigin)
	if rh := c.Request().Header.Get(echo.HeaderAccessControlRequestHeaders); rh != "" {
		h.Set(echo.HeaderAccessControlAllowHeaders, rh)
	}
}

// decodeSockJSFrame splits a client frame into its messages (see the
// framing notes above). It returns ErrBadFrame for anything else.
func decodeSockJSFrame(frame []byte) ([][]byte, error) {
	b := trimJSONSpace(frame)
	if len(b) == 0 {
		return nil, nil
	}
	switch b[0] {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(b, &elems); err != nil {
			return nil, ErrBadFrame
		}
		msgs := make([][]byte, 0, len(elems))
		for _, e := range elems {
			m, err := decodeSockJSElement(e)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		return msgs, nil
	case '"', '{':
		if !json.Valid(b) {
			return nil, ErrBadFrame
		}
		m, err := decodeSockJSElement(b)
		if err != nil {
			return nil, err
		}
		return [][]byte{m}, nil
	}
	return nil, ErrBadFrame
}

// decodeSockJSElement decodes one valid JSON value: a string's contents, or
// an object's raw text.
func decodeSockJSElement(v []byte) ([]byte, error) {
	v = trimJSONSpace(v)
	if len(v) == 0 {
		return nil, ErrBadFrame
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, ErrBadFrame
		}
		return []byte(s), nil
	case '{':
		return append([]byte(nil), v...), nil
	}
	return nil, ErrBadFrame
}

func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// appendSockJSMessage appends the frame `a["<msg>"]`.
func appendSockJSMessage(dst, msg []byte) []byte {
	dst = append(dst, 'a', '[')
	dst = appendSockJSString(dst, msg)
	return append(dst, ']')
}

// sockJSCloseFrame is `c[code,"reason"]`.
func sockJSCloseFrame(code int, reason string) []byte {
	b := append([]byte("c["), strconv.Itoa(code)...)
	b = append(b, ',')
	b = appendSockJSString(b, []byte(reason))
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendSockJSString appends s as a JSON string, escaping like sockjs-node:
// quote, backslash and control characters, plus the ranges some browsers
// and proxies mangle (U+200C–U+200F, U+2028–U+202F, U+2060–U+206F,
// U+FFF0–U+FFFF) as \uXXXX. Invalid UTF-8 becomes \ufffd. No HTML escaping.
func appendSockJSString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = 0xfffd
		} else if !sockJSEscapable(r) {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func sockJSEscapable(r rune) bool {
	return (r >= 0x200c && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
		(r >= 0x2060 && r <= 0x206f) || (r >= 0xfff0 && r <= 0xffff)
}
