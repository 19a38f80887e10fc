// Package bridge will hold the Rocket.Chat realtime API (methods, streams,
// object shapes) mapped onto the livechat core over ddp, and the Rocket.Chat
// ⇄ LiveChat migration. It imports ddp and livechat, never a transport.
package bridge
