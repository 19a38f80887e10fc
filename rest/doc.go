// Package rest is chatbridge's HTTP server (echo): routes, authentication of
// HTTP requests, the one JSON error handler, health, readiness and metrics,
// the OAuth-style token endpoints, and (as the protocols land) the websocket
// and SockJS transports that LiveChat RTM and DDP sessions consume.
package rest
