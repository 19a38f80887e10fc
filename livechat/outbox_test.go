package livechat

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
)

func TestOutboxLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		maxFrames, maxBytes int
		push                []int // frame lengths, pushed in order
		want                []bool
		wantLen, wantBytes  int
	}{
		{"by count", 3, 1000, []int{1, 1, 1, 1}, []bool{true, true, true, false}, 3, 3},
		{"by bytes", 100, 10, []int{4, 4, 3, 2}, []bool{true, true, false, true}, 3, 10},
		{"frame over maxBytes", 100, 10, []int{11, 10, 0}, []bool{false, true, true}, 2, 10},
		{"empty frames count", 2, 10, []int{0, 0, 0}, []bool{true, true, false}, 2, 0},
		{"defaults", 0, -1, []int{DefaultOutboxMaxBytes, 1}, []bool{true, false}, 1, DefaultOutboxMaxBytes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := NewOutbox(tc.maxFrames, tc.maxBytes)
			for i, n := range tc.push {
				if got := o.Push(make([]byte, n)); got != tc.want[i] {
					t.Fatalf("push %d (%d bytes) = %v, want %v", i, n, got, tc.want[i])
				}
			}
			if o.Len() != tc.wantLen || o.Bytes() != tc.wantBytes {
				t.Fatalf("Len %d Bytes %d, want %d %d", o.Len(), o.Bytes(), tc.wantLen, tc.wantBytes)
			}
			got := o.Pop(nil)
			if len(got) != tc.wantLen || o.Len() != 0 || o.Bytes() != 0 {
				t.Fatalf("Pop returned %d frames, left Len %d Bytes %d", len(got), o.Len(), o.Bytes())
			}
			if !o.Push(make([]byte, 1)) {
				t.Fatal("Push after Pop refused")
			}
		})
	}
}

func TestOutboxOrderAndWakeup(t *testing.T) {
	t.Parallel()
	o := NewOutbox(10, 100)
	select {
	case <-o.C():
		t.Fatal("wakeup before any Push")
	default:
	}
	for _, s := range []string{"a", "b", "c"} {
		o.Push([]byte(s))
	}
	select {
	case <-o.C():
	default:
		t.Fatal("no wakeup after Push")
	}
	select {
	case <-o.C():
		t.Fatal("second wakeup for one batch")
	default:
	}
	dst := o.Pop([][]byte{[]byte("kept")})
	if len(dst) != 4 || string(dst[0]) != "kept" || string(dst[1]) != "a" || string(dst[3]) != "c" {
		t.Fatalf("Pop = %q", dst)
	}
	if got := o.Pop(nil); len(got) != 0 {
		t.Fatalf("second Pop = %q", got)
	}
}

func TestOutboxClose(t *testing.T) {
	t.Parallel()
	o := NewOutbox(10, 100)
	o.Push([]byte("x"))
	o.Close()
	o.Close()
	if !o.Closed() {
		t.Fatal("Closed() = false")
	}
	if o.Push([]byte("y")) {
		t.Fatal("Push after Close accepted")
	}
	n := 0
	for range o.C() { // the pending token, then the channel is closed
		n++
	}
	if n > 1 {
		t.Fatalf("%d wakeups after Close", n)
	}
	if got := o.Pop(nil); len(got) != 1 || string(got[0]) != "x" {
		t.Fatalf("Pop after Close = %q, want the frame queued before", got)
	}
}

func TestOutboxShrinksAfterBurst(t *testing.T) {
	t.Parallel()
	o := NewOutbox(1000, 1<<20)
	for range 500 {
		o.Push([]byte("f"))
	}
	o.Pop(nil)
	o.mu.Lock()
	c := cap(o.frames)
	o.mu.Unlock()
	if c > outboxKeepCap {
		t.Fatalf("capacity %d kept after drain, want <= %d", c, outboxKeepCap)
	}
}

// TestOutboxConcurrent has many producers and one consumer; every frame is
// either refused or delivered exactly once, in each producer's order. Run it
// with -race.
func TestOutboxConcurrent(t *testing.T) {
	t.Parallel()
	const (
		producers = 8
		perProd   = 5000
	)
	o := NewOutbox(64, 64*16)
	var refused atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range perProd {
				f := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(p)), uint32(i))
				if !o.Push(f) {
					refused.Add(1)
				}
				_, _ = o.Len(), o.Bytes()
			}
		})
	}
	done := make(chan int)
	go func() {
		last := make([]int, producers)
		for i := range last {
			last[i] = -1
		}
		got := 0
		var batch [][]byte
		drain := func() {
			batch = o.Pop(batch[:0])
			for _, f := range batch {
				p, i := int(binary.BigEndian.Uint32(f)), int(binary.BigEndian.Uint32(f[4:]))
				if i <= last[p] {
					t.Errorf("producer %d: frame %d after %d", p, i, last[p])
				}
				last[p] = i
			}
			got += len(batch)
			clear(batch)
		}
		for range o.C() {
			drain()
		}
		drain()
		done <- got
	}()
	wg.Wait()
	o.Close()
	got := <-done
	if total := int64(got) + refused.Load(); total != producers*perProd {
		t.Fatalf("delivered %d + refused %d != pushed %d", got, refused.Load(), producers*perProd)
	}
	if got == 0 {
		t.Fatal("consumer got nothing")
	}
}
