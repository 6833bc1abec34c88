package workload

import (
	"context"
	"errors"

	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// lockBody is LockBatchRequestBody / UnlockBatchRequestBody for one queue.
type lockBody struct {
	ConsumerGroup  string              `json:"consumerGroup"`
	ClientID       string              `json:"clientId"`
	OnlyThisBroker bool                `json:"onlyThisBroker"`
	MQSet          []body.MessageQueue `json:"mqSet"`
}

type lockResponse struct {
	LockOKMQSet []body.MessageQueue `json:"lockOKMQSet"`
}

func (qw *queueWorker) lockRequest(code int32) *remoting.Command {
	b := lockBody{
		ConsumerGroup: qw.c.g.cfg.Name, ClientID: qw.c.clientID,
		MQSet: []body.MessageQueue{{Topic: qw.w().cfg.Topic, BrokerName: qw.w().cfg.BrokerName, QueueID: qw.queue}},
	}
	return remoting.NewRequest(code, nil, body.EncodeJSON(b))
}

// tryLock sends LOCK_BATCH_MQ for the worker's queue: granted, or an error.
func (qw *queueWorker) tryLock(ctx context.Context) (bool, error) {
	resp, err := qw.c.link.invoke(ctx, controlTimeout, qw.lockRequest(remoting.ReqLockBatchMQ))
	if err != nil {
		return false, err
	}
	if resp.Code != remoting.RespSuccess {
		return false, nil
	}
	var r lockResponse
	if err := body.DecodeJSON(resp.Body, &r); err != nil {
		return false, err
	}
	for _, mq := range r.LockOKMQSet {
		if mq.Topic == qw.w().cfg.Topic && mq.QueueID == qw.queue {
			return true, nil
		}
	}
	return false, nil
}

// lock waits until the broker grants the queue's lock, then records it.
func (qw *queueWorker) lock(ctx context.Context) error {
	for {
		// Refused or not answered: the queue is not ours yet, ask again.
		if ok, _ := qw.tryLock(ctx); ok {
			qw.locked = true
			qw.w().rec(qw.event(history.Lock))
			return nil
		}
		if !pause(ctx, retryPause) {
			return ctx.Err()
		}
	}
}

// renew re-locks a held queue before each pull (the Go client renews
// every 20 s): a broker that restarted since the last pull has no locks,
// and the client's connection may have been redialled without an error
// reaching the worker; the renewal finds out either way. A granted renewal
// is recorded as a Lock (the lock-exclusive check measures from it). It
// returns errLockLost when the broker gave the queue away, the transport
// error when it could not be asked.
func (qw *queueWorker) renew(ctx context.Context) error {
	ok, err := qw.tryLock(ctx)
	switch {
	case err != nil:
		return err
	case !ok:
		return errLockLost
	}
	ev := qw.event(history.Lock)
	ev.Detail = "renewed"
	qw.w().rec(ev)
	return nil
}

// unlock records that the worker no longer holds the lock (before telling
// the broker, so no other consumer's Lock can precede it in the history),
// then sends UNLOCK_BATCH_MQ unless the broker already took it away.
func (qw *queueWorker) unlock(why error) {
	ev := qw.event(history.Unlock)
	if why != nil {
		ev.Detail = why.Error()
	}
	qw.w().rec(ev)
	qw.locked = false
	if errors.Is(why, errLockLost) {
		return
	}
	_, _ = qw.c.link.invoke(context.Background(), controlTimeout, qw.lockRequest(remoting.ReqUnlockBatchMQ))
}
