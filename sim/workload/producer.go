package workload

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// producerGroup is the producer group every producer sends as.
const producerGroup = "sim_pg"

// producer sends one message at a time.
type producer struct {
	w     *Workload
	index int
	name  string
	keyed bool
	rng   *rand.Rand
	link  *link
	sent  int64
	// keySeq is the next sequence number of each key (keyed producers).
	keySeq []int64
}

func newProducer(w *Workload, index int, keyed bool) *producer {
	name := "p" + strconv.Itoa(index)
	if keyed {
		name = "k" + strconv.Itoa(index)
	}
	p := &producer{
		w: w, index: index, name: name, keyed: keyed,
		rng:  rand.New(rand.NewPCG(w.cfg.Seed, uint64(index)+1)),
		link: w.track(newLink(w.cfg.ProducerAddr, netio.ClientConfig{})),
	}
	if keyed {
		p.keySeq = make([]int64, w.cfg.Keys)
	}
	return p
}

// run sends until ctx is done, paced by the configured rate.
func (p *producer) run(ctx context.Context) {
	defer p.link.close()
	var gap time.Duration
	if p.w.cfg.Rate > 0 {
		gap = time.Duration(float64(time.Second) / p.w.cfg.Rate)
	}
	next := time.Now()
	for ctx.Err() == nil {
		p.sendOne()
		if gap > 0 {
			next = next.Add(gap)
			if d := time.Until(next); d > 0 && !pause(ctx, d) {
				return
			} else if d < -time.Second {
				next = time.Now() // do not burst to catch up after a stall
			}
		}
	}
}

// sendOne sends the next message and records its outcome, which it
// returns. It is not cancelled by the run's end: an answer in flight is
// waited for (at most sendTimeout), so every Send in the history has its
// outcome.
func (p *producer) sendOne() history.Kind {
	id := ID(p.w.cfg.Seed, p.index, p.sent)
	p.sent++
	ev := history.Event{Kind: history.Send, Actor: p.name, ID: id, Topic: p.w.cfg.Topic}
	if p.keyed {
		k := p.rng.IntN(len(p.keySeq))
		ev.Key = p.name + "-" + strconv.Itoa(k)
		ev.KeySeq = p.keySeq[k]
		p.keySeq[k]++
		ev.Queue = int32(k % p.w.cfg.Queues)
	} else {
		ev.Queue = int32(p.rng.IntN(p.w.cfg.Queues))
	}
	p.w.rec(ev)
	resp, err := p.link.invoke(context.Background(), sendTimeout, p.request(id, ev.Queue))
	out := history.Event{Actor: p.name, ID: id, Topic: p.w.cfg.Topic, Queue: ev.Queue}
	switch {
	case err != nil:
		out.Kind, out.Detail = history.Maybe, err.Error()
	case resp.Code == remoting.RespSuccess:
		out.Kind = history.Ack
		q, err1 := strconv.ParseInt(resp.ExtFields["queueId"], 10, 32)
		off, err2 := strconv.ParseInt(resp.ExtFields["queueOffset"], 10, 64)
		if err1 != nil || err2 != nil {
			out.Kind, out.Detail = history.Maybe, "SUCCESS without a queueId/queueOffset: "+resp.ExtFields["queueId"]+"/"+resp.ExtFields["queueOffset"]
		}
		out.Queue, out.Offset = int32(q), off
	case refusedCode(resp.Code):
		out.Kind, out.Code, out.Detail = history.Refused, resp.Code, resp.Remark
	default:
		out.Kind, out.Code, out.Detail = history.Maybe, resp.Code, resp.Remark
	}
	p.w.rec(out)
	return out.Kind
}

// refusedCode reports whether a send answer says the message was not
// accepted (checked before anything is written). FLUSH_DISK_TIMEOUT and
// the replica codes say it was stored but not made durable; SYSTEM_ERROR
// may come after the append: both stay "maybe".
func refusedCode(code int32) bool {
	switch code {
	case remoting.RespSystemBusy, remoting.RespServiceNotAvailable, remoting.RespNoPermission,
		remoting.RespTopicNotExist, remoting.RespMessageIllegal, remoting.RespInvalidParameter:
		return true
	}
	return false
}

// request is SEND_MESSAGE_V2 as a Java producer sends it (V2 short keys,
// JSON header), with the id as UNIQ_KEY and KEYS.
func (p *producer) request(id string, queue int32) *remoting.Command {
	ext := map[string]string{
		"a": producerGroup, "b": p.w.cfg.Topic, "c": "TBW102", "d": "4",
		"e": strconv.Itoa(int(queue)), "f": "0", "g": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"h": "0", "j": "0", "k": "false", "l": "16", "m": "false",
		"i": message.FormatProperties(map[string]string{message.PropertyUniqKey: id, message.PropertyKeys: id}),
	}
	return remoting.NewRequest(remoting.ReqSendMessageV2, ext, Body(id))
}
