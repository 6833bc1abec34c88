package locks

import (
	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/asynkron/protoactor-go/actor"
)

// locksActor owns the lock table, the connections each client locked
// through, and the requests waiting for their group to be created.
type locksActor struct {
	l     *Locks
	opt   options
	table *table
	// conns: connection id → client ids that locked through it;
	// clientConns is the reverse index. A client's locks are released when
	// its last connection here closes.
	conns       map[uint64]map[string]struct{}
	clientConns map[string]map[uint64]struct{}
	// waiting: group being created → its requests, in arrival order.
	waiting map[string][]*request
}

func newLocksActor(l *Locks, opt options) *locksActor {
	return &locksActor{
		l: l, opt: opt, table: newTable(l.cfg.Expiry),
		conns:       make(map[uint64]map[string]struct{}),
		clientConns: make(map[string]map[uint64]struct{}),
		waiting:     make(map[string][]*request),
	}
}

func (a *locksActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *request:
		a.serve(ctx, m)
	case *connClosed:
		a.closed(m.id)
	case *actor.Stopping:
		for group, reqs := range a.waiting {
			for _, r := range reqs {
				a.fail(r, admit.ErrStopping)
			}
			delete(a.waiting, group)
		}
	case *actor.Stopped:
		close(a.l.done)
	}
}

// serve applies r, or queues it behind its group's creation.
func (a *locksActor) serve(ctx actor.Context, r *request) {
	group := r.body.ConsumerGroup
	if reqs, ok := a.waiting[group]; ok {
		if len(reqs) >= a.l.cfg.PendingMax {
			a.fail(r, reply.Errorf(reply.ErrSystemBusy, "[REJECTREQUEST]system busy, group %s is being created", group))
			return
		}
		a.waiting[group] = append(reqs, r)
		return
	}
	// An unlock needs no group: it only releases what the table holds.
	if _, ok := a.l.cfg.Groups.Group(group); ok || r.unlock {
		a.apply(r)
		return
	}
	if !a.l.cfg.Broker.AutoCreateSubscriptionGroup {
		a.fail(r, reply.Errorf(reply.ErrSubscriptionGroupNotExist, "subscription group [%s] does not exist", group))
		return
	}
	a.waiting[group] = []*request{r}
	fut := a.l.cfg.Groups.PrepareConsumerGroupsFuture([]meta.ConsumerGroupSpec{{Group: group}}, a.l.cfg.CreateTimeout)
	ctx.ReenterAfter(fut, func(res any, err error) {
		a.created(group, meta.PrepareResult(res, err))
	})
}

// created applies (or fails) the requests that waited for group.
func (a *locksActor) created(group string, err error) {
	reqs := a.waiting[group]
	delete(a.waiting, group)
	if err != nil {
		a.l.log.Warn().Err(err).Str("group", group).Msg("lock request: cannot create the group")
	}
	for _, r := range reqs {
		if err != nil {
			a.fail(r, err)
			continue
		}
		a.apply(r)
	}
}

// fail answers r with err and ends its in-flight accounting.
func (a *locksActor) fail(r *request, err error) {
	reply.WriteError(r.conn, r.cmd, err)
	a.l.gate.Leave()
}

// apply runs one request against the table and answers it.
func (a *locksActor) apply(r *request) {
	b := &r.body
	if r.unlock {
		a.table.unlock(b.ConsumerGroup, b.ClientID, b.MQSet)
		a.l.log.Debug().Str("group", b.ConsumerGroup).Str("client", b.ClientID).Int("queues", len(b.MQSet)).Msg("unlock")
		reply.WriteOK(r.conn, r.cmd, nil, nil)
		a.l.gate.Leave()
		return
	}
	ok := a.table.lock(b.ConsumerGroup, b.ClientID, b.MQSet, a.opt.now())
	a.track(r.conn.ID(), b.ClientID)
	a.l.log.Debug().Str("group", b.ConsumerGroup).Str("client", b.ClientID).Int("asked", len(b.MQSet)).
		Int("granted", len(ok)).Msg("lock")
	reply.WriteOK(r.conn, r.cmd, nil, body.EncodeJSON(lockResponse{LockOKMQSet: ok}))
	a.l.gate.Leave()
}

// track records that clientID locked through connection id.
func (a *locksActor) track(id uint64, clientID string) {
	ids := a.conns[id]
	if ids == nil {
		ids = make(map[string]struct{}, 1)
		a.conns[id] = ids
	}
	ids[clientID] = struct{}{}
	cs := a.clientConns[clientID]
	if cs == nil {
		cs = make(map[uint64]struct{}, 1)
		a.clientConns[clientID] = cs
	}
	cs[id] = struct{}{}
}

// closed forgets connection id and releases the locks of the clients that
// have no connection left.
func (a *locksActor) closed(id uint64) {
	for clientID := range a.conns[id] {
		cs := a.clientConns[clientID]
		delete(cs, id)
		if len(cs) > 0 {
			continue
		}
		delete(a.clientConns, clientID)
		if n := a.table.releaseClient(clientID); n > 0 {
			a.l.log.Info().Str("client", clientID).Int("queues", n).Msg("client disconnected: its queue locks are released")
		}
	}
	delete(a.conns, id)
}
