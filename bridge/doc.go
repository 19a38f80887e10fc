// Package bridge is the Rocket.Chat realtime API over the conversation core:
// Rocket.Chat's DDP methods, publications and streams, and its documents
// (users, omnichannel rooms, subscriptions, messages, inquiries), mapped onto
// LiveChat agents, customers, chats, threads and events. It imports ddp and
// livechat, never a transport; rest mounts it (rest/ddp.go).
//
//	srv, _ := ddp.NewServer(ddp.Config{RateLimits: bridge.RateLimits()})
//	b, _ := bridge.New(bridge.Config{Service: svc, Hub: hub})
//	b.Register(srv) // then srv.Serve(ctx, stream) per socket
//
// The mapping, method by method and stream by stream, is
// docs/rocketchat-mapping.md (mapping_test.go checks it names everything
// registered). In short: agents are Rocket.Chat users (_id = account id),
// customers are omnichannel visitors (_id = customer id, identified by the
// widget's token), a chat is an omnichannel room (t "l", _id = chat id), an
// event is a message (_id = event id, so ids are stable both ways), a thread
// starts with livechat-started and closes with livechat-close, a queued
// thread is an inquiry. Resume tokens are LiveChat tokens and LiveChat agent
// tokens resume. Every operation goes through the core with the caller as
// its Actor, so DDP clients get LiveChat's access rules.
//
// # Files
//
//	bridge.go      Config, New, Register, the method and publication tables
//	conn.go        per-session state; the hub subscriber (livechat.Subscriber)
//	encode.go      domain events → stream messages, once per audience
//	bundle.go      the per-audience frame: messages tagged by stream
//	unread.go      subscription unread counts kept in step with pushes
//	shapes.go      the Rocket.Chat documents
//	people.go      identities both ways, and their cache
//	login.go       login, logout, tokens, the users document
//	settings.go    start-up methods, presence, unsupported methods
//	rooms.go       rooms, subscriptions, history
//	messages.go    send, edit, delete, react
//	streams.go     stream publications and their read rules; typing
//	visitors.go    omnichannel, visitor side
//	inquiries.go   omnichannel, agent side
//	errors.go      core errors → Rocket.Chat errors, in one place
//
// # Concurrency
//
// A Bridge is safe for concurrent use. Handlers of one DDP session run one
// at a time (ddp's ordered dispatch); the hub calls a session's Accepts,
// Encode, Send and Disconnect from publishing goroutines. conn.mu guards a
// session's state and is never held while calling the core, the hub or ddp;
// the event memo, the people cache and the unread cache have their own
// leaf mutexes.
package bridge
