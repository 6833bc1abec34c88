package send

import (
	"fmt"
	"net/netip"

	"github.com/actormq/actormq/actors/admit"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/asynkron/protoactor-go/actor"
)

// topicActor validates and encodes the sends of one topic (package comment,
// step 3). Its state is the round-robin position, a one-entry cache of the
// last connection's parsed address and scratch slices reused every turn.
type topicActor struct {
	s     *Sender
	name  string
	entry *topicEntry
	rr    uint32

	lastRemote string
	lastBorn   netip.AddrPort

	// refs are the writer's handles of this topic's queues, by queue id
	// (writer.QueueRef), made at a queue's first send: an idle queue
	// costs a nil slot.
	refs []*writer.QueueRef

	spare  []*sendReq             // the inbox's next slice (inbox.take)
	items  []message.BatchItem    // scratch for batch bodies (encodeBatch)
	record message.RecordTemplate // a batch's shared record fields (encodeBatch)
}

func newTopicActor(s *Sender, name string, e *topicEntry) *topicActor {
	return &topicActor{s: s, name: name, entry: e}
}

func (t *topicActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *wake:
		reqs := t.entry.inbox.take(t.spare)
		t.turn(ctx, reqs)
		clear(reqs)
		if cap(reqs) > inboxSpareMax {
			reqs = nil
		}
		t.spare = reqs[:0]
	case *actor.Stopping:
		// Sender.Stop poisons topic actors before the writer stops: what
		// was queued last is still stored and answered.
		t.turn(ctx, t.entry.inbox.close())
	case *actor.Stopped:
		close(t.entry.done)
	}
}

// turn encodes every send of reqs into one writer Batch, in order, and
// submits it: one writer message for all of them. A send that fails is
// answered on its own; the others go on.
func (t *topicActor) turn(ctx actor.Context, reqs []*sendReq) {
	if len(reqs) == 0 {
		return
	}
	s := t.s
	tc, exists := s.cfg.Topics.Topic(t.name)
	// Room for every record at once instead of doubling through the turn:
	// body and properties, plus the fixed fields, topic and CLUSTER tail
	// per record, and a batch message holds a record per item (else each
	// batch regrew the buffer, copying the turn's records so far; a guess
	// short of its items costs encodeBatch one regrowth).
	perRecord := message.RecordBytesMin + len(t.name) + len(s.clusterEntrySep)
	need := 0
	for _, req := range reqs {
		records := 1
		if req.hdr.batch {
			records = message.EstimateBatchItems(req.cmd.Body)
		}
		need += len(req.cmd.Body) + len(req.hdr.properties) + records*perRecord
	}
	b := writer.NewBatchFor(need)
	for _, req := range reqs {
		t.handle(ctx, req, &tc, exists, b)
	}
	if len(b.Appends) == 0 {
		b.Release()
		return
	}
	if s.w.Closed() {
		for _, a := range b.Appends {
			s.writeError(a.Conn, a.Req, admit.ErrStopping)
			a.Done()
		}
		b.Release()
		return
	}
	s.w.Submit(b)
}

// handle encodes one send into b, or answers it, or hands it back to the
// registry. It owns req and gives it up in every case.
func (t *topicActor) handle(ctx actor.Context, req *sendReq, tc *body.TopicConfig, exists bool, b *writer.Batch) {
	s := t.s
	mark := len(b.Records.B)
	// A panic here is a bug on one request; answer it so the producer is not
	// left to time out and the in-flight count stays exact, and drop what it
	// wrote into the batch. Resuming the actor alone would drop the request
	// silently, and the rest of the turn with it.
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Interface("panic", r).Str("topic", t.name).Msg("send handling panicked")
			b.Records.B = b.Records.B[:mark]
			s.fail(req, fmt.Errorf("%w: internal error", reply.ErrSystem))
		}
	}()
	if !exists {
		if req.attempts == 0 {
			// Deleted since this actor was spawned: let the registry run
			// auto-create again.
			req.attempts++
			ctx.Send(s.registry, req)
			return
		}
		s.fail(req, fmt.Errorf("%w: topic[%s] not exist, apply first please!", reply.ErrTopicNotExist, t.name))
		return
	}
	a, err := t.encode(req, tc, b)
	if err != nil {
		b.Records.B = b.Records.B[:mark]
		s.fail(req, err)
		return
	}
	// req now travels with a to the writer, which ends it (a.Done).
	b.Add(a)
}

// check is §6.1 steps 5-7 for req against the topic: permission, queue id
// (round robin when negative) and body size. It returns the queue.
func (t *topicActor) check(req *sendReq, tc *body.TopicConfig) (int32, error) {
	h := &req.hdr
	if tc.Perm&body.PermWrite == 0 {
		return 0, fmt.Errorf("%w: the topic[%s] sending message is forbidden", reply.ErrNoPermission, t.name)
	}
	qid := h.queueID
	if limit := max(tc.ReadQueueNums, tc.WriteQueueNums); qid >= limit {
		return 0, fmt.Errorf("%w: request queueId[%d] is illegal, topic[%s] queue nums %d, producer: %s",
			reply.ErrInvalidParameter, qid, t.name, limit, h.producerGroup)
	}
	if qid < 0 {
		if tc.WriteQueueNums <= 0 {
			return 0, fmt.Errorf("%w: topic[%s] has no write queue", reply.ErrInvalidParameter, t.name)
		}
		qid = int32(t.rr % uint32(tc.WriteQueueNums))
		t.rr++
	}
	if n := len(req.cmd.Body); n > t.s.cfg.Broker.MaxMessageSize {
		return 0, fmt.Errorf("%w: the message body size %d over max value, MAX: %d",
			reply.ErrMessageIllegal, n, t.s.cfg.Broker.MaxMessageSize)
	}
	return qid, nil
}

// bornHost parses the producer's "ip:port" for BORNHOST, caching the last
// one (a topic's sends mostly come from few connections). IPv4-mapped
// addresses become IPv4 so records keep 8-byte hosts, which every client
// decodes; an unparsable address gives 0.0.0.0:0.
func (t *topicActor) bornHost(remote string) netip.AddrPort {
	if remote == t.lastRemote && t.lastRemote != "" {
		return t.lastBorn
	}
	ap := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if p, err := netip.ParseAddrPort(remote); err == nil {
		ap = netip.AddrPortFrom(p.Addr().Unmap().WithZone(""), p.Port())
	}
	t.lastRemote, t.lastBorn = remote, ap
	return ap
}

// queueRef returns the writer handle of this topic's queue qid (made if
// needed) for an Append to it.
func (t *topicActor) queueRef(qid int32) *writer.QueueRef {
	if qid < 0 {
		return nil
	}
	if int(qid) >= len(t.refs) {
		t.refs = append(t.refs, make([]*writer.QueueRef, int(qid)+1-len(t.refs))...)
	}
	r := t.refs[qid]
	if r == nil {
		r = new(writer.QueueRef)
		t.refs[qid] = r
	}
	return r
}
