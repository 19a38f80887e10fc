// Command chatbridge serves the LiveChat Chat API and a Rocket.Chat-compatible
// DDP API over one conversation store, and manages that store from the CLI.
// It owns configuration (flags with env vars), wiring, the ordered start and
// shutdown, and the CLI subcommands.
//
//	chatbridge [serve] [flags]          run the server (the default)
//	chatbridge agent create|list|token  manage agents and their tokens
package main
