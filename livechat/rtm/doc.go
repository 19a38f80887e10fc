// Package rtm is the LiveChat RTM session: one per websocket (or SockJS)
// connection, speaking request / response / push frames over a Conn that the
// transport provides. It owns the login rule (log in within the deadline,
// nothing but ping before), the liveness rule (silence → disconnect; the
// server pings idle sockets itself), the cap of in-flight requests, the
// ordering promise (a response is written before any push that carries its
// request_id), and the session's side of the hub (topics, push
// subscriptions, encoding once per audience).
//
// Goroutines per session: the caller's (reading), one worker (running
// requests in order) and one writer (the only one that writes, and the one
// that checks deadlines on the injected clock).
package rtm
