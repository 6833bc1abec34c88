package namesrv

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/reply"
)

// kvActor owns kvConfig.json. Its state is the published table itself:
// every change is persisted first and published only when the write
// succeeded, so the published table always equals the file. A restarted
// actor therefore resumes from the published table without reading the disk.
type kvActor struct {
	path string
	log  zerolog.Logger
	pub  *atomic.Pointer[kvTable] // written only by this actor
	done chan struct{}            // closed on the final Stopped
	// inflight is the handler's count of queued requests (see handler.inflight).
	inflight *atomic.Int64
}

// Receive runs on the actor's goroutine; it is the only writer of a.pub.
func (a *kvActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Stopped:
		close(a.done)
	case *request:
		a.serve(m)
		a.inflight.Add(-1)
	}
}

func (a *kvActor) serve(r *request) {
	cur := *a.pub.Load()
	switch op := r.op.(type) {
	case kvPutOp:
		if err := a.publish(cur.with(op.namespace, op.key, op.value)); err != nil {
			reply.WriteError(r.conn, r.cmd, err)
			return
		}
		a.log.Info().Str("namespace", op.namespace).Str("key", op.key).Str("value", op.value).Msg("kv config put")
		reply.WriteOK(r.conn, r.cmd, nil, nil)
	case kvGetOp:
		v, ok := cur.get(op.namespace, op.key)
		if !ok {
			reply.WriteError(r.conn, r.cmd, reply.Errorf(ErrKVNotFound,
				"No config item, Namespace: %s Key: %s", op.namespace, op.key))
			return
		}
		reply.WriteOK(r.conn, r.cmd, map[string]string{"value": v}, nil)
	case kvDeleteOp:
		if _, ok := cur.get(op.namespace, op.key); ok {
			if err := a.publish(cur.without(op.namespace, op.key)); err != nil {
				reply.WriteError(r.conn, r.cmd, err)
				return
			}
			a.log.Info().Str("namespace", op.namespace).Str("key", op.key).Msg("kv config deleted")
		}
		reply.WriteOK(r.conn, r.cmd, nil, nil)
	case kvListOp:
		b := cur.namespaceBody(op.namespace)
		if b == nil {
			reply.WriteError(r.conn, r.cmd, reply.Errorf(ErrKVNotFound, "No config item, Namespace: %s", op.namespace))
			return
		}
		reply.WriteOK(r.conn, r.cmd, nil, b)
	default:
		a.log.Error().Type("op", op).Msg("kv actor got an unknown op")
		reply.WriteError(r.conn, r.cmd, reply.ErrSystem)
	}
}

// publish persists next and, once it is on disk, makes it the current table.
// On failure the current table stays, matching the file.
func (a *kvActor) publish(next kvTable) error {
	if err := saveKV(a.path, next); err != nil {
		a.log.Error().Err(err).Str("path", a.path).Msg("kv config not persisted")
		return fmt.Errorf("%w: %w", ErrKVPersist, err)
	}
	a.pub.Store(&next)
	return nil
}
