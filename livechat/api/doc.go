// Package api is the LiveChat Chat API method table: each method is written
// once as typed request → core call → typed response, and the RTM and Web
// transports are thin adapters over the same table, so they cannot drift.
// It also owns the LiveChat JSON shapes of chats, threads, events and users,
// per API version.
package api
