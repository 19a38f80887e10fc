// Package ddp will hold the Meteor DDP protocol: frames, EJSON, sessions,
// heartbeats and the method and publication registries. It has no chat
// knowledge and imports only the standard library; bridge maps Rocket.Chat's
// realtime API onto the conversation core through it. (Issue: DDP layer.)
package ddp
