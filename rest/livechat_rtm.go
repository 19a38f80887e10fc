package rest

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/chatbridge/chatbridge/livechat/api"
	"github.com/chatbridge/chatbridge/livechat/rtm"
)

// livechatRTMRoutes mounts the Agent RTM API for every served version, as a
// plain websocket (/v3.x/agent/rtm/ws) and over SockJS
// (/v3.x/agent/rtm/sjs/..., used by @livechat/chat-sdk).
func (s *Server) livechatRTMRoutes() {
	table := api.AgentTable()
	for _, v := range api.Versions {
		cfg := &rtm.Config{
			Service: s.svc, Hub: s.cfg.Hub, Table: table, Pushes: api.AgentPushes, Login: rtm.AgentLogin,
			API: "agent", Version: v, Clock: s.svc.Clock(), Registry: s.sessions, Logger: s.log,
		}
		s.applyRTMTuning(cfg)
		h := s.rtmHandler(cfg)
		prefix := "/v" + v + "/agent/rtm"
		s.e.GET(prefix+"/ws", WebSocketHandler(s.transport(), h))
		MountSockJS(s.e, prefix+"/sjs", s.transport(), h)
	}
}

func (s *Server) transport() TransportConfig { return TransportConfig{Logger: s.log} }

func (s *Server) applyRTMTuning(cfg *rtm.Config) {
	t := s.cfg.RTM
	cfg.LoginTimeout, cfg.IdleTimeout, cfg.PingInterval, cfg.TickInterval = t.LoginTimeout, t.IdleTimeout, t.PingInterval, t.TickInterval
	if t.Clock != nil {
		cfg.Clock = t.Clock
	}
}

// rtmHandler runs one RTM session per stream, counted in /metrics.
func (s *Server) rtmHandler(cfg *rtm.Config) StreamHandler {
	gauge := s.metrics.Connections("livechat_" + cfg.API)
	return func(ctx context.Context, st Stream) {
		gauge.Inc()
		defer gauge.Dec()
		rtm.Serve(ctx, st, cfg)
	}
}

// isUpgrade says whether the request became a socket (its lifetime is not a
// request latency).
func isUpgrade(c echo.Context) bool {
	return c.Response().Status == 101
}
