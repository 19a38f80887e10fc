// Package livechat is the conversation core of chatbridge: the canonical model
// (organization, agents, groups, customers, chats, threads, events, properties,
// tags, access, tokens) and every operation on it.
//
// Every operation takes the caller as an explicit Actor and enforces who may
// see or change what, so every transport (LiveChat RTM and Web API, DDP,
// Rocket.Chat REST) gets the same rules. Every successful change emits one
// DomainEvent to the configured Publisher; the Hub fans those out to live
// sessions. The core knows no protocol and imports no driver: it talks to a
// Store (implemented by livechat/mongostore).
//
// Writes to one chat are ordered inside the process by a striped lock, since
// the embedded store has no compare-and-swap; work shared between instances
// is claimed with unique-id inserts (Claims).
package livechat
