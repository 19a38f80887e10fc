package livechat

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Closing idle threads. A thread whose chat has had no event for the idle
// timeout is closed by the system, as LiveChat archives inactive chats: the
// thread becomes inactive, the routing.archived_inactive system message is
// added and chat_deactivated (without user_id) goes to everyone allowed to see
// the chat. The chat stays for the next thread.
//
// Every instance sweeps. One close is one piece of shared work: the instance
// whose Claim insert for the thread succeeds closes it; the others skip it.

// idleCloseTTL is how long a claim to close a thread keeps other instances
// off it: far longer than one close takes, and short enough that a thread
// whose closer died is closed by someone else a minute (plus a claim cleanup
// period) later. A claim is kept after a close: the thread is inactive then,
// so no sweep looks at it again, and a sweep that read the chat just before
// the close finds the claim taken.
const idleCloseTTL = time.Minute

// releaseTimeout bounds giving a claim back, also when the sweep was
// cancelled (at shutdown) half-way through a thread.
const releaseTimeout = 5 * time.Second

// idleCloseClaimID names the work of closing thread threadID.
func idleCloseClaimID(threadID string) string { return "idle-close:" + threadID }

// CloseIdleThreads closes every active thread whose chat's last event is idle
// or more old on the core's clock, and says how many it closed. A thread
// another instance is closing is left to it. It goes on past a failing chat
// and returns the failures joined.
func (s *Service) CloseIdleThreads(ctx context.Context, idle time.Duration) (closed int, err error) {
	closed, _, err = s.SweepIdleThreads(ctx, idle)
	return closed, err
}

// SweepIdleThreads is CloseIdleThreads that also says when, at the earliest,
// a thread can next be idle: the oldest last event among the chats left
// active, or now for a thread started from now on, plus idle; now when a
// chat needs another look (a close failed, another instance holds its
// claim). Events only move a chat's last event forward, and a new thread's
// starts at its creation, so a sweeper may skip the store until then (give or
// take the instances' clock skew): on the embedded store a sweep reads every
// chat. A chat activated some other way is still seen within idle.
func (s *Service) SweepIdleThreads(ctx context.Context, idle time.Duration) (closed int, next time.Time, err error) {
	if idle <= 0 {
		return 0, time.Time{}, fmt.Errorf("livechat: idle timeout %v is not positive", idle)
	}
	now := s.now()
	cutoff := now.Add(-idle)
	chats, err := s.store.Chats().Find(ctx, Where(Cond{Field: "active_thread_id", Op: OpNe, Value: ""}))
	if err != nil {
		return 0, now, fmt.Errorf("livechat: find active chats: %w", err)
	}
	next = now.Add(idle)
	var errs []error
	for i := range chats {
		c := &chats[i]
		if c.LastEventAt.After(cutoff) {
			if due := c.LastEventAt.Add(idle); due.Before(next) {
				next = due
			}
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		ok, err := s.closeIdleThread(ctx, c.ID, c.ActiveThreadID, idle)
		if err != nil {
			errs = append(errs, fmt.Errorf("chat %s: %w", c.ID, err))
		}
		if ok {
			closed++
		} else {
			next = now
		}
	}
	if len(errs) > 0 {
		next = now
	}
	return closed, next, errors.Join(errs...)
}

// closeIdleThread claims the close of thread threadID of chat chatID, checks
// the chat is still idle on that thread, and closes it. It says whether it
// closed the thread.
func (s *Service) closeIdleThread(ctx context.Context, chatID, threadID string, idle time.Duration) (bool, error) {
	claimID := idleCloseClaimID(threadID)
	took, err := s.ClaimWork(ctx, claimID, idleCloseTTL)
	if err != nil || !took {
		return false, err
	}
	// The sweep's read may be stale: the chat may have had an event, or been
	// closed, since. The close checks again under the chat's lock.
	err = s.deactivateChat(ctx, System(), chatID, false, func(c *Chat) error {
		if c.ActiveThreadID != threadID || c.LastEventAt.After(s.now().Add(-idle)) {
			return errNotIdle
		}
		return nil
	})
	if err == nil {
		s.log.Debug("idle thread closed", "chat_id", chatID, "thread_id", threadID, "idle", idle)
		return true, nil
	}
	if errors.Is(err, errNotIdle) || IsType(err, TypeChatInactive) || IsType(err, TypeNotFound) { // active again, or closed by someone since
		err = nil
	}
	// Not closed: give the work back, so a later sweep may take the
	// thread when it is idle again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if rerr := s.ReleaseClaim(rctx, claimID); rerr != nil {
		s.log.Warn("idle close: claim not released; it expires", "claim", claimID, "err", rerr)
	}
	return false, err
}

// errNotIdle stops an idle close whose chat got an event (or a new thread) since the sweep read it.
var errNotIdle = errors.New("chat is no longer idle")
