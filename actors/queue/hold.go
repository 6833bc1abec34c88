package queue

import (
	"time"

	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// Holding suspended pulls (§13.3). A pull that finds nothing, from a client
// that allows suspension, is held by the actor that owns its queue: the
// queue actor, or the registry actor while the queue does not exist. The
// queue actor answers its held pulls right after the Put that passes their
// offset, in the same message, so a woken pull costs no hop beyond the
// dispatch itself. Deadlines need a timer, and one timer per queue would
// make every long-polled idle queue cost one; so the long-poll actor
// (longpoll.go) keeps the earliest deadline per queue and one timer for all,
// and tells the holder when some of its pulls may be due.
//
// Rejected: the long-poll actor holding the pulls themselves (the previous
// design), which made every wake-up two more hops (queue actor → long-poll
// actor → queue actor) on the path from send to delivery.
//
// Contract between a holder and the long-poll actor, per queue:
//
//  1. told is the deadline the holder last sent (holdUntil); the long-poll
//     actor keeps, per queue, the earliest deadline it was sent since it
//     last sent expireHeld for that queue.
//  2. The holder sends holdUntil whenever it holds a request due before
//     told (or told is zero), so the long-poll actor always has a deadline
//     no later than every held request's.
//  3. The long-poll actor sends expireHeld once that deadline (less
//     sweepSlack) passed and forgets the queue; the holder answers every
//     request due, sets told to zero and sends holdUntil for the earliest
//     request left, if any.
//
// A request answered because its queue advanced leaves its deadline with the
// long-poll actor; the expireHeld it causes later finds nothing due and
// costs one message per queue.

// holdUntil tells the long-poll actor that the holder of key's suspended
// pulls holds one due at at.
type holdUntil struct {
	key store.QueueKey
	at  time.Time
}

// expireHeld tells the holder of a queue's suspended pulls that some may be
// due.
type expireHeld struct{}

var theExpire = &expireHeld{}

// heldPulls are the suspended pulls of one queue, owned by their holder.
type heldPulls struct {
	reqs []*pullReq
	told time.Time // contract step 1; zero: nothing told since the last expireHeld
}

// shouldHold reports whether the outcome may be suspended instead of sent:
// PULL_NOT_FOUND for a request that may still be held.
func shouldHold(req *pullReq, o *pullOutcome) bool {
	return o.code == remoting.RespPullNotFound && req.suspend && req.hold > 0
}

// hold keeps req in h until the queue advances past its offset or its
// deadline (set at its first hold) comes. It reports false, keeping
// nothing, when HeldPullsMax pulls are held already: the caller answers req
// then (the client pulls again at once). Holder only.
func (r *Registry) hold(h *heldPulls, key store.QueueKey, req *pullReq) bool {
	if r.heldPulls.Add(1) > int64(r.cfg.HeldPullsMax) {
		r.heldPulls.Add(-1)
		return false
	}
	if req.deadline.IsZero() {
		req.deadline = time.Now().Add(req.hold)
	}
	h.reqs = append(h.reqs, req)
	if h.told.IsZero() || req.deadline.Before(h.told) {
		h.told = req.deadline
		r.root.Send(r.longPoll, &holdUntil{key: key, at: req.deadline})
	}
	return true
}

// answerHeld stops holding every request for which due reports true and
// hands it to answer, with suspension off: answer evaluates it once more and
// writes whatever it finds. Holder only.
func (r *Registry) answerHeld(h *heldPulls, due func(*pullReq) bool, answer func(*pullReq)) {
	kept := h.reqs[:0]
	for _, req := range h.reqs {
		if !due(req) {
			kept = append(kept, req)
			continue
		}
		r.heldPulls.Add(-1)
		req.suspend = false
		answer(req)
	}
	clear(h.reqs[len(kept):])
	h.reqs = kept
}

// expireHeld answers the requests due within sweepSlack and tells the
// long-poll actor the earliest deadline left (contract step 3). Holder only.
func (r *Registry) expireHeld(h *heldPulls, key store.QueueKey, answer func(*pullReq)) {
	now := time.Now().Add(sweepSlack)
	r.answerHeld(h, func(req *pullReq) bool { return !req.deadline.After(now) }, answer)
	h.told = time.Time{}
	for _, req := range h.reqs {
		if h.told.IsZero() || req.deadline.Before(h.told) {
			h.told = req.deadline
		}
	}
	if !h.told.IsZero() {
		r.root.Send(r.longPoll, &holdUntil{key: key, at: h.told})
	}
}

// takeHeld stops holding every request and returns them, for a holder that
// hands them on (the registry to a new queue actor) or answers them all (a
// destroyed queue). told stays: the long-poll actor's deadline reaches the
// queue's next holder, or nobody, harmlessly. Holder only.
func (r *Registry) takeHeld(h *heldPulls) []*pullReq {
	reqs := h.reqs
	h.reqs = nil
	r.heldPulls.Add(-int64(len(reqs)))
	return reqs
}
