package ddp

import (
	"testing"
	"time"
)

// settle gives the writer's ticker (1 ms) time to look at a moved clock
// before a test asserts that nothing happened.
const settle = 30 * time.Millisecond

func heartbeatClient(t *testing.T) (*client, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	c := serve(t, newTestServer(t, testConfig(clock)))
	c.connect()
	return c, clock
}

func TestIdleClientIsPinged(t *testing.T) {
	t.Parallel()
	c, clock := heartbeatClient(t)
	clock.Advance(DefaultPingInterval - time.Second)
	c.none(settle)
	clock.Advance(time.Second)
	c.expect(`{"msg":"ping","id":"1"}`)
	// One ping at a time: no second ping while the first is outstanding.
	clock.Advance(DefaultPingTimeout - time.Second)
	c.none(settle)
	if !c.isOpen() {
		t.Fatal("closed before the ping timeout")
	}
}

func TestAnsweredPingKeepsSession(t *testing.T) {
	t.Parallel()
	c, clock := heartbeatClient(t)
	clock.Advance(DefaultPingInterval)
	c.expect(`{"msg":"ping","id":"1"}`)
	c.send(`{"msg":"pong","id":"1"}`)
	c.sync()
	// The pong counts as activity: the next ping comes a full interval later.
	clock.Advance(DefaultPingInterval - time.Second)
	c.none(settle)
	clock.Advance(time.Second)
	c.expect(`{"msg":"ping","id":"2"}`)
	if !c.isOpen() {
		t.Fatal("closed although the ping was answered")
	}
}

func TestAnyMessageAnswersPing(t *testing.T) {
	t.Parallel()
	c, clock := heartbeatClient(t)
	clock.Advance(DefaultPingInterval)
	c.expect(`{"msg":"ping","id":"1"}`)
	// A client (rcsdk1) that answers with something else, or with a pong
	// without the id, is alive too.
	c.send(`{"msg":"sub","id":"s","name":"nope"}`)
	c.next()
	clock.Advance(DefaultPingTimeout) // pinged again, not closed
	c.expect(`{"msg":"ping","id":"2"}`)
	if !c.isOpen() {
		t.Fatal("closed although a message arrived after the ping")
	}
}

func TestUnansweredPingCloses(t *testing.T) {
	t.Parallel()
	c, clock := heartbeatClient(t)
	clock.Advance(DefaultPingInterval)
	c.expect(`{"msg":"ping","id":"1"}`)
	clock.Advance(DefaultPingTimeout - time.Millisecond)
	c.none(settle)
	if !c.isOpen() {
		t.Fatal("closed before the timeout")
	}
	clock.Advance(time.Millisecond)
	c.closed(CloseHeartbeatTimeout)
}

// Transport-level activity (a websocket pong to a control ping, a SockJS
// frame) shows the client is alive even without a DDP message.
func TestTransportActivityAnswersPing(t *testing.T) {
	t.Parallel()
	c, clock := heartbeatClient(t)
	clock.Advance(DefaultPingInterval)
	c.expect(`{"msg":"ping","id":"1"}`)
	c.activity.Store(time.Now().UnixNano())
	// The tick that sees the new time folds the transport activity in first.
	clock.Advance(DefaultPingTimeout)
	c.none(settle)
	if !c.isOpen() {
		t.Fatal("closed although the transport saw the client")
	}
	clock.Advance(DefaultPingInterval)
	c.expect(`{"msg":"ping","id":"2"}`)
}

// simpleddp never pings on its own; it only answers the server's pings.
// Such a client stays up indefinitely.
func TestSimpleDDPClientStaysUp(t *testing.T) {
	t.Parallel()
	c, clock := heartbeatClient(t)
	for i := range 240 { // an hour of fake time
		clock.Advance(DefaultPingInterval)
		m := c.next()
		if m["msg"] != "ping" {
			t.Fatalf("round %d: want ping, got %v", i, m)
		}
		c.send(`{"msg":"pong","id":"` + m["id"].(string) + `"}`)
		c.sync()
	}
	if !c.isOpen() {
		t.Fatal("an answering client was dropped")
	}
}

func TestPre1IsProbedAtTransportLevel(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := serve(t, newTestServer(t, testConfig(clock)))
	c.send(`{"msg":"connect","version":"pre1","support":["pre1"]}`)
	c.next()
	clock.Advance(DefaultPingInterval)
	deadline := time.Now().Add(waitFor)
	for c.pings.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no transport ping")
		}
		time.Sleep(time.Millisecond)
	}
	c.none(settle) // and no DDP ping
	clock.Advance(DefaultPingTimeout)
	c.closed(CloseHeartbeatTimeout)
}

func TestConnectDeadline(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := serve(t, newTestServer(t, testConfig(clock)))
	c.send(`{"msg":"ping"}`) // not a connect: does not help
	c.next()
	clock.Advance(DefaultConnectTimeout - time.Millisecond)
	c.none(settle)
	if !c.isOpen() {
		t.Fatal("closed before the connect deadline")
	}
	clock.Advance(time.Millisecond)
	c.closed(CloseConnectTimeout)
}

func TestConnectBeforeDeadlineStartsHeartbeat(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := serve(t, newTestServer(t, testConfig(clock)))
	clock.Advance(DefaultConnectTimeout - time.Second)
	c.connect()
	clock.Advance(2 * time.Second) // past the connect deadline: irrelevant now
	c.none(settle)
	clock.Advance(DefaultPingInterval)
	c.expect(`{"msg":"ping","id":"1"}`)
}
