package rest

import (
	"context"

	"github.com/chatbridge/chatbridge/bridge"
	"github.com/chatbridge/chatbridge/ddp"
)

// ddpRoutes mounts the Rocket.Chat realtime API (Meteor DDP, package ddp
// with bridge's methods and publications):
//
//	GET /websocket                              raw websocket, one DDP message per frame
//	GET /websocket/websocket                    the same (what @rocket.chat/ddp-client opens
//	                                            when given a ws://host/websocket URL)
//	GET /sockjs/info                            SockJS info
//	GET /sockjs/<server>/<session>/websocket    SockJS-framed websocket
//	GET /sockjs/websocket                       raw websocket (Meteor's internal alias)
//
// It must run once, from routes(); Shutdown closes the sessions through
// shutdownDDP.
func (s *Server) ddpRoutes() {
	srv, err := ddp.NewServer(ddp.Config{Clock: s.svc.Clock(), Logger: s.log, RateLimits: bridge.RateLimits()})
	if err != nil { // only an invalid Config fails, and this one is fixed
		panic("rest: ddp server: " + err.Error())
	}
	s.bridge.Register(srv)
	s.ddp = srv
	gauge := s.metrics.Connections("ddp")
	h := func(ctx context.Context, st Stream) {
		gauge.Inc()
		defer gauge.Dec()
		srv.Serve(ctx, st)
	}
	s.e.GET("/websocket", WebSocketHandler(s.transport(), h))
	s.e.GET("/websocket/websocket", WebSocketHandler(s.transport(), h))
	MountSockJS(s.e, "/sockjs", s.transport(), h)
}

// shutdownDDP closes every DDP session (code 1001, server_shutdown) and
// waits for them to end, or for ctx.
func (s *Server) shutdownDDP(ctx context.Context) error {
	if s.ddp == nil {
		return nil
	}
	return s.ddp.Shutdown(ctx)
}
