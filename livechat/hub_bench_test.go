package livechat

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// benchSub is an Outbox-backed session, as a real one is: Send pushes into
// its bounded queue. Encode copies a ~300-byte frame, standing in for a
// protocol encoder's allocation.
type benchSub struct {
	id   uint64
	aud  string
	ob   *Outbox
	tmpl []byte
	slow atomic.Int64
}

func (s *benchSub) SessionID() uint64            { return s.id }
func (s *benchSub) Audience() string             { return s.aud }
func (s *benchSub) Accepts(ev *DomainEvent) bool { return true }
func (s *benchSub) Send(frame []byte) bool       { return s.ob.Push(frame) }
func (s *benchSub) Disconnect(reason string)     { s.slow.Add(1) }

func (s *benchSub) Encode(ev *DomainEvent, requestID string) ([]byte, error) {
	return append([]byte(nil), s.tmpl...), nil
}

var benchFrame = bytes.Repeat([]byte("x"), 300)

func newBenchHub(b *testing.B, subs, auds, maxFrames int) (*Hub, []*benchSub) {
	b.Helper()
	h := NewHub(HubConfig{})
	// Sessions share their audience strings, as they would taking them from
	// a protocol's table.
	audNames := make([]string, auds)
	for i := range audNames {
		audNames[i] = fmt.Sprint("rtm/3.5/agent/", i)
	}
	ss := make([]*benchSub, subs)
	for i := range ss {
		ss[i] = &benchSub{
			id:   uint64(i + 1),
			aud:  audNames[i%auds],
			ob:   NewOutbox(maxFrames, 0),
			tmpl: benchFrame,
		}
		h.Subscribe(ss[i], OrgTopic)
	}
	return h, ss
}

func reportFanout(b *testing.B, h *Hub, ss []*benchSub) {
	b.Helper()
	var slow int64
	for _, s := range ss {
		slow += s.slow.Load()
	}
	if slow > 0 {
		b.ReportMetric(float64(slow), "slow_consumers")
	}
	st := h.Stats()
	b.ReportMetric(float64(st.Delivered)/b.Elapsed().Seconds(), "deliveries/s")
	if st.Delivered > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(st.Delivered), "ns/delivery")
	}
}

// BenchmarkHubFanout publishes one event on one topic to N sessions in 1 or 4
// audiences. It measures the publisher's side: index copy, Accepts, one
// Encode per audience, one Outbox.Push per session; the queues are drained
// on the benchmark goroutine every 64 events (a writer's batched Pop), and
// that Pop is timed too. Writer goroutine wakeups are not included (see
// BenchmarkHubFanoutWriters).
func BenchmarkHubFanout(b *testing.B) {
	const drainEvery = 64
	for _, n := range []int{1, 100, 1000, 10000} {
		for _, auds := range []int{1, 4} {
			b.Run(fmt.Sprintf("subs=%d/auds=%d", n, auds), func(b *testing.B) {
				h, ss := newBenchHub(b, n, auds, 2*drainEvery)
				ev := event(KindIncomingEvent, OrgTopic)
				var batch [][]byte
				drain := func() {
					for _, s := range ss {
						batch = s.ob.Pop(batch[:0])
						clear(batch)
					}
				}
				// Warm up: grow every queue to its steady-state size once.
				for range drainEvery {
					h.Publish(ev)
				}
				drain()
				h.delivered.Store(0)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					h.Publish(ev)
					if i++; i%drainEvery == 0 {
						drain()
					}
				}
				reportFanout(b, h, ss)
			})
		}
	}
}

// BenchmarkHubFanoutWriters is BenchmarkHubFanout with a real writer
// goroutine per session draining its Outbox on wakeup, so goroutine
// scheduling on this machine's cores is part of the cost. The publisher
// waits every 64 events until the writers are less than 256 frames each
// behind, so it measures the sustainable rate rather than how fast a
// publisher can overrun 1024-frame queues (a session whose writer still
// falls that far behind is disconnected and shows as slow_consumers).
func BenchmarkHubFanoutWriters(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d/auds=1", n), func(b *testing.B) {
			h, ss := newBenchHub(b, n, 1, 1024)
			var wg sync.WaitGroup
			var written atomic.Int64
			for _, s := range ss {
				wg.Go(func() {
					var batch [][]byte
					for range s.ob.C() {
						batch = s.ob.Pop(batch[:0])
						written.Add(int64(len(batch)))
						clear(batch)
					}
				})
			}
			ev := event(KindIncomingEvent, OrgTopic)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				h.Publish(ev)
				if i++; i%64 == 0 {
					behind := int64(h.Stats().Delivered) - int64(256*n)
					for written.Load() < behind {
						runtime.Gosched()
					}
				}
			}
			b.StopTimer()
			for _, s := range ss {
				s.ob.Close()
			}
			wg.Wait()
			reportFanout(b, h, ss)
		})
	}
}

// BenchmarkOutboxPushPop measures the queue alone: one goroutine pushing
// batches and popping them, and producers on every P against one consumer
// goroutine (refused/op is the share of pushes that found the queue full).
func BenchmarkOutboxPushPop(b *testing.B) {
	frame := benchFrame
	b.Run("serial/batch=64", func(b *testing.B) {
		o := NewOutbox(1024, 0)
		var batch [][]byte
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if !o.Push(frame) {
				b.Fatal("Push refused")
			}
			if i++; i%64 == 0 {
				<-o.C()
				batch = o.Pop(batch[:0])
				clear(batch)
			}
		}
	})
	b.Run("parallel-producers/one-consumer", func(b *testing.B) {
		o := NewOutbox(4096, 64<<20)
		done := make(chan struct{})
		go func() {
			defer close(done)
			var batch [][]byte
			for range o.C() {
				batch = o.Pop(batch[:0])
				clear(batch)
			}
		}()
		var refused atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !o.Push(frame) {
					// Busy producers would starve the consumer for a whole
					// time slice; yield as a backed-off producer would.
					refused.Add(1)
					runtime.Gosched()
				}
			}
		})
		b.StopTimer()
		o.Close()
		<-done
		b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
	})
}
