package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNPMCustomerSDK runs @livechat/customer-sdk 4.0.2, pinned in
// testdata/npm/package-lock.json and unmodified, against a real server: the
// customer logs in over wss://…/v3.5/customer/rtm/ws (its hard-coded host
// swapped by a WebSocket shim in testdata/npm/customer-sdk.js), starts a
// chat that the router gives to an agent connected with
// @livechat/lc-sdk-js, and receives the agent's answer.
func TestNPMCustomerSDK(t *testing.T) {
	t.Parallel()
	node, npmDir := npmReady(t)

	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	srv := startTLSServe(t, pool, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile,
		"--admin-email", adminEmail, "--admin-password", adminPassword)
	token, org := srv.passwordGrant(t, adminEmail, adminPassword)
	env := append(os.Environ(),
		"CHATBRIDGE_ADDR="+srv.addr,
		"NODE_EXTRA_CA_CERTS="+certFile,
		"CHATBRIDGE_AGENT_TOKEN="+token,
		"CHATBRIDGE_ORGANIZATION_ID="+org,
	)
	runNodeScript(t, srv, node, npmDir, "customer-sdk.js", env)
}
