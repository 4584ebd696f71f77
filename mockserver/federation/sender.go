package federation

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"go.mau.fi/util/jsontime"
	mfed "maunium.net/go/mautrix/federation"
)

// The sender: a local presence change marks its user; BatchDelay later the
// marks are read (each user's state then, and the servers that share a room
// with them then) and queued per destination, the latest state of each user
// replacing an older one still queued. Each destination has at most one
// transaction in flight, as the spec asks, and a transaction carries at
// most 100 EDUs; what does not fit waits for the next. A transaction that
// fails is tried again a few times within a second, then dropped (presence
// is ephemeral; the next change sends the state anew) and counted.

// A transaction that fails is tried again after retryWait, then after four
// times as long each time, up to maxRetryWait: a peer that is slow to fetch
// our keys, or busy, gets a second chance within a second; a dead one costs
// little.
const (
	retryWait    = 50 * time.Millisecond
	maxRetryWait = 800 * time.Millisecond
)

// maxEDUs is the spec's limit of EDUs in one transaction.
const maxEDUs = 100

// maxPushPerEDU bounds the push list of one EDU, so that an EDU stays small
// however many users change at once.
const maxPushPerEDU = 100

// A destQueue is what waits for one destination.
type destQueue struct {
	items []Presence // at most one per user
	since time.Time  // when the oldest of items was queued
	busy  bool       // a goroutine is sending to it
}

// LocalChanged tells the sender that a local user's presence changed. It
// takes only the sender's own lock, which nothing else is taken under, so
// callers may hold theirs.
func (f *Federation) LocalChanged(userID string) { f.mark(userID, true) }

// mark queues a user for the next flush; real is false for a storm's
// repeats, which must not start storms of their own.
func (f *Federation) mark(userID string, real bool) {
	f.mu.Lock()
	f.changed[userID] = f.changed[userID] || real
	if !f.armed {
		f.armed = true
		time.AfterFunc(f.delay, f.flush)
	}
	f.mu.Unlock()
}

// flush queues the marked users' presence for their destinations.
func (f *Federation) flush() {
	f.mu.Lock()
	changed := f.changed
	f.changed = map[string]bool{}
	f.armed = false
	f.mu.Unlock()
	perDest := map[string][]Presence{}
	for userID, real := range changed {
		p, ok := f.home.LocalPresence(userID)
		if !ok {
			continue
		}
		dests := f.home.Destinations(userID)
		if f.tw.Destinations != nil {
			dests = f.tw.Destinations(userID, dests)
		}
		for _, d := range dests {
			if d != f.name {
				perDest[d] = append(perDest[d], p)
			}
		}
		if real && f.tw.Repeat > 0 {
			f.storm(userID)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for dest, ps := range perDest {
		q := f.dests[dest]
		if q == nil {
			q = &destQueue{}
			f.dests[dest] = q
		}
		if len(q.items) == 0 {
			q.since = time.Now()
		}
		for _, p := range ps {
			i := slices.IndexFunc(q.items, func(old Presence) bool { return old.UserID == p.UserID })
			if i >= 0 && !f.tw.NoMerge {
				q.items = slices.Delete(q.items, i, i+1)
			}
			q.items = append(q.items, p)
		}
		if !q.busy && len(q.items) > 0 {
			q.busy = true
			go f.drain(dest, q)
		}
	}
}

// storm re-marks a user every Repeat, from RepeatAfter after a change
// until RepeatFor after the latest: a sender that resends what has not
// changed. One chain of repeats runs per user; a change extends it.
func (f *Federation) storm(userID string) {
	f.mu.Lock()
	_, running := f.storming[userID]
	f.storming[userID] = time.Now().Add(cmpOr(f.tw.RepeatFor, 10*time.Second))
	f.mu.Unlock()
	if running {
		return
	}
	var tick func()
	tick = func() {
		f.mu.Lock()
		over := time.Now().After(f.storming[userID])
		if over {
			delete(f.storming, userID)
		}
		f.mu.Unlock()
		if over {
			return
		}
		f.mark(userID, false)
		time.AfterFunc(f.tw.Repeat, tick)
	}
	time.AfterFunc(cmpOr(f.tw.RepeatAfter, f.tw.Repeat), tick)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// drain sends q's items to dest, one transaction at a time, until q is
// empty.
func (f *Federation) drain(dest string, q *destQueue) {
	for {
		f.mu.Lock()
		if len(q.items) == 0 {
			q.busy = false
			f.mu.Unlock()
			return
		}
		if wait := f.tw.Hold - time.Since(q.since); wait > 0 {
			// Late delivery: each change waits Hold from when it was
			// queued, not Hold more behind every transaction before it.
			f.mu.Unlock()
			time.Sleep(wait)
			continue
		}
		edus, used := f.pack(q.items)
		q.items = q.items[used:]
		f.txnSeq++
		txnID := strconv.FormatInt(f.started.UnixMilli(), 10) + "." + strconv.FormatUint(f.txnSeq, 10)
		f.mu.Unlock()
		if f.tw.EditEDUs != nil {
			edus = f.tw.EditEDUs(edus)
		}
		err := f.send(dest, txnID, edus)
		for wait := retryWait; err != nil && wait <= maxRetryWait; wait *= 4 {
			// The same ID again: the receiver applies a transaction once.
			time.Sleep(wait)
			err = f.send(dest, txnID, edus)
		}
		f.mu.Lock()
		if err != nil {
			f.stats.Failures++
		} else {
			f.stats.Transactions++
			f.stats.EDUs += len(edus)
		}
		f.mu.Unlock()
		if err != nil {
			f.logf("federation: a transaction was not delivered", "destination", dest, "txn", txnID, "error", err)
		}
	}
}

// pack makes the EDUs of one transaction from the front of items: one EDU
// per maxPushPerEDU users (one per user with OneUserPerEDU), at most
// maxEDUs of them; used is how many items they carry.
func (f *Federation) pack(items []Presence) (edus []json.RawMessage, used int) {
	per := maxPushPerEDU
	if f.tw.OneUserPerEDU {
		per = 1
	}
	for used < len(items) && len(edus) < maxEDUs {
		end := min(len(items), used+per)
		push := make([]map[string]any, 0, end-used)
		for _, p := range items[used:end] {
			push = append(push, f.pushItem(p))
		}
		edu, _ := json.Marshal(map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": push}})
		edus = append(edus, edu)
		used = end
	}
	return edus, used
}

// pushItem is a presence as an m.presence push item has it.
func (f *Federation) pushItem(p Presence) map[string]any {
	item := map[string]any{"user_id": p.UserID, "presence": p.Presence, "last_active_ago": p.LastActiveAgo}
	if p.StatusMsg != nil {
		item["status_msg"] = *p.StatusMsg
	}
	if p.CurrentlyActive != nil {
		item["currently_active"] = *p.CurrentlyActive
	}
	if f.tw.EditItem != nil {
		f.tw.EditItem(item)
	}
	return item
}

// send puts one transaction, signed by the library.
func (f *Federation) send(dest, txnID string, edus []json.RawMessage) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := &mfed.ReqSendTransaction{
		Destination:    dest,
		TxnID:          txnID,
		Origin:         f.name,
		OriginServerTS: jsontime.UM(time.Now()),
		PDUs:           []mfed.PDU{},
		EDUs:           make([]mfed.EDU, len(edus)),
	}
	for i, e := range edus {
		req.EDUs[i] = mfed.EDU(e)
	}
	_, err := f.client.SendTransaction(ctx, req)
	return err
}
