package main

import (
	"os"
	"path/filepath"
	"testing"
)

// npmDDPUsername and npmDDPPassword name the agent testdata/npm/ddp.js signs in as.
const (
	npmDDPUsername = "npm.ddp"
	npmDDPPassword = "secret-ddp-123"
)

// TestNPMDDPClients runs the public Rocket.Chat DDP clients, pinned in
// testdata/npm/package-lock.json and unmodified, against a real server over
// wss://…/websocket: @rocket.chat/ddp-client 1.1.2 (an agent: password
// digest login, start-up methods, streams, messages, typing, history,
// closing; and its REST client) and simpleddp 2.2.4 (an omnichannel visitor
// whose first message creates a chat routed to that agent, and the agent
// again by resume token); then @rocket.chat/sdk 1.0.0-alpha.42 (its
// DDPDriver, its Rocketchat agent client over REST and DDP, and its Livechat
// visitor client over the omnichannel REST endpoints and DDP) on the same
// server.
func TestNPMDDPClients(t *testing.T) {
	t.Parallel()
	node, npmDir := npmReady(t)

	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	data := filepath.Join(dir, "data")
	mustRun(t, "agent", "create", "--email", "npm.ddp@chatbridge.test", "--username", npmDDPUsername, "--name", "NPM DDP",
		"--password", npmDDPPassword, "--data-dir", data)
	srv := startTLSServe(t, pool, "--addr", "127.0.0.1:0", "--data-dir", data, "--tls-cert", certFile, "--tls-key", keyFile,
		"--admin-email", adminEmail, "--admin-password", adminPassword)
	env := append(os.Environ(),
		"CHATBRIDGE_ADDR="+srv.addr,
		"NODE_EXTRA_CA_CERTS="+certFile,
		"CHATBRIDGE_DDP_USERNAME="+npmDDPUsername,
		"CHATBRIDGE_DDP_PASSWORD="+npmDDPPassword,
	)
	runNodeScript(t, srv, node, npmDir, "ddp.js", env)
	runNodeScript(t, srv, node, npmDir, "rcsdk.js", env)
}
