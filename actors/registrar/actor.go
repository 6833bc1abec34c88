package registrar

import (
	"context"
	"fmt"
	"hash/crc32"
	"maps"
	"net"
	"strconv"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// Messages of the registrar and its links.
type (
	registerAndWait struct{} // start a round; answered with roundDone when every link is idle
	registerNow     struct{} // start a round (debounced topic change)
	periodTick      struct{}
	topicsChanged   struct{}
	unregisterAll   struct{ timeout time.Duration } // answered with roundDone
	roundDone       struct{ failed int }
	linkRequest     struct { // registrar → link
		cmd        *remoting.Command
		timeout    time.Duration
		unregister bool
	}
	linkDone struct { // link → registrar
		idx        int
		unregister bool
		err        error
	}
)

// registrarActor schedules rounds. Goroutine: the actor's, for all methods.
type registrarActor struct {
	cfg     config.Broker
	meta    Topics
	client  *netio.Client
	log     zerolog.Logger
	addrs   []string
	timeout time.Duration
	base    context.Context // cancelled by Registrar.Stop

	links   []*actor.PID
	busy    []bool // a register request is in flight on link i
	dirty   []bool // another round was asked for while link i was busy
	failed  int    // failures since the links were last all idle
	waiters []*actor.PID

	unregistering bool
	unregPending  int
	unregFailed   int
	unregWaiter   *actor.PID

	period, debounce *time.Timer

	// The last body built and what it was built from: the periodic rounds
	// send the same table again, and compressing 100,000 topics takes
	// about 100 ms, so a body is rebuilt only when the DataVersion (which
	// meta advances on every change) differs. Links only read it.
	cached           []byte
	cachedVersion    body.DataVersion
	cachedCompressed bool
	cachedCRC        string
}

// Receive dispatches one message.
func (a *registrarActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.links = make([]*actor.PID, len(a.addrs))
		a.busy = make([]bool, len(a.addrs))
		a.dirty = make([]bool, len(a.addrs))
		for i, addr := range a.addrs {
			l := &link{idx: i, addr: addr, client: a.client, log: a.log, base: a.base}
			a.links[i] = ctx.Spawn(actor.PropsFromProducer(func() actor.Actor { return l }))
		}
		a.armPeriod(ctx)
	case *actor.Stopping, *actor.Restarting:
		a.stopTimers()
	case *registerAndWait:
		a.waiters = append(a.waiters, ctx.Sender())
		a.round(ctx)
		a.answerIfIdle(ctx)
	case *registerNow:
		a.debounce = nil
		a.round(ctx)
	case *periodTick:
		a.round(ctx)
		a.armPeriod(ctx)
	case *topicsChanged:
		if a.debounce == nil && !a.unregistering {
			system, self := ctx.ActorSystem(), ctx.Self()
			a.debounce = time.AfterFunc(debounceDelay, func() { system.Root.Send(self, &registerNow{}) })
		}
	case *unregisterAll:
		a.unregisterAll(ctx, msg.timeout)
	case *linkDone:
		a.linkDone(ctx, msg)
	}
}

// armPeriod schedules the next periodic round with a one-shot runtime timer
// that Sends a tick: no goroutine to track, and Stopping cancels it.
func (a *registrarActor) armPeriod(ctx actor.Context) {
	if a.unregistering {
		return
	}
	system, self := ctx.ActorSystem(), ctx.Self()
	a.period = time.AfterFunc(a.cfg.RegisterNameServerPeriod, func() { system.Root.Send(self, &periodTick{}) })
}

func (a *registrarActor) stopTimers() {
	for _, t := range []*time.Timer{a.period, a.debounce} {
		if t != nil {
			t.Stop()
		}
	}
}

// round sends a fresh REGISTER_BROKER to every idle link and marks busy ones
// dirty, so that each link re-registers once with the newest table when its
// current request ends.
func (a *registrarActor) round(ctx actor.Context) {
	if a.unregistering {
		return
	}
	ext, b := a.registerRequest()
	for i := range a.links {
		if a.busy[i] {
			a.dirty[i] = true
			continue
		}
		a.busy[i] = true
		ctx.Send(a.links[i], &linkRequest{cmd: remoting.NewRequest(remoting.ReqRegisterBroker, maps.Clone(ext), b), timeout: a.timeout})
	}
}

// linkDone records a link's answer.
func (a *registrarActor) linkDone(ctx actor.Context, d *linkDone) {
	if d.unregister {
		a.unregPending--
		if d.err != nil {
			a.unregFailed++
		}
		if a.unregPending == 0 && a.unregWaiter != nil {
			ctx.Send(a.unregWaiter, roundDone{failed: a.unregFailed})
			a.unregWaiter = nil
		}
		return
	}
	a.busy[d.idx] = false
	if d.err != nil {
		a.failed++
	}
	if a.dirty[d.idx] && !a.unregistering {
		a.dirty[d.idx] = false
		a.busy[d.idx] = true
		ext, b := a.registerRequest()
		ctx.Send(a.links[d.idx], &linkRequest{cmd: remoting.NewRequest(remoting.ReqRegisterBroker, ext, b), timeout: a.timeout})
	}
	a.answerIfIdle(ctx)
}

// answerIfIdle answers registerAndWait callers once no link is busy.
func (a *registrarActor) answerIfIdle(ctx actor.Context) {
	for _, b := range a.busy {
		if b {
			return
		}
	}
	for _, w := range a.waiters {
		ctx.Send(w, roundDone{failed: a.failed})
	}
	a.waiters, a.failed = nil, 0
}

// unregisterAll stops registering and sends UNREGISTER_BROKER through every
// link (after any registration in flight there).
func (a *registrarActor) unregisterAll(ctx actor.Context, timeout time.Duration) {
	a.unregistering = true
	a.stopTimers()
	if len(a.links) == 0 {
		ctx.Respond(roundDone{})
		return
	}
	a.unregWaiter, a.unregPending, a.unregFailed = ctx.Sender(), len(a.links), 0
	ext := a.identity()
	for _, l := range a.links {
		ctx.Send(l, &linkRequest{cmd: remoting.NewRequest(remoting.ReqUnregisterBroker, maps.Clone(ext), nil), timeout: timeout, unregister: true})
	}
}

// identity is the header both requests carry (wire doc §5).
func (a *registrarActor) identity() map[string]string {
	return map[string]string{
		"brokerName":  a.cfg.BrokerName,
		"brokerAddr":  net.JoinHostPort(a.cfg.BrokerIP1, strconv.Itoa(a.cfg.ListenPort)),
		"clusterName": a.cfg.BrokerClusterName,
		"brokerId":    strconv.FormatInt(a.cfg.BrokerID, 10),
	}
}

// compressTopicsMin is the topic count above which the registration body is
// compressed even when compressedRegister is off. A topic takes 150 to 300
// bytes of JSON, so Java's JSON body outgrows the 16 MiB frame limit near
// 60,000 topics and its broker stops registering; compressed, a topic takes
// a few bytes (2.4 for 100,000 names "topic-000000"…). Below the threshold the JSON form is kept as Java sends
// it by default: it is the only form that carries topicSysFlag and order.
const compressTopicsMin = 10_000

// registerRequest builds the REGISTER_BROKER header and body: the current
// topic table (with its DataVersion, which lets the NameServer skip unchanged
// tables) and no filter servers, as JSON or, with compressedRegister or more
// than compressTopicsMin topics, in the compressed form
// (body.EncodeRegisterBody). bodyCrc32 lets the NameServer reject a damaged
// body, as Java's broker does. The body is shared read-only by the links.
//
// Splitting a large table over several registrations (RocketMQ 5.x
// enableSplitRegistration) was rejected: a 4.x NameServer applies only the
// first part (the others carry the same dataVersion), and ours, like
// Java's deleteTopicWithBrokerRegistration, takes each table as the
// broker's complete topic set.
func (a *registrarActor) registerRequest() (map[string]string, []byte) {
	ext := a.identity()
	haPort := a.cfg.HAListenPort
	if haPort == 0 {
		haPort = a.cfg.ListenPort + 1
	}
	ext["haServerAddr"] = net.JoinHostPort(a.cfg.BrokerIP1, strconv.Itoa(haPort))
	table := a.meta.TopicTable()
	if a.cached == nil || a.cachedVersion != table.DataVersion {
		compressed := a.cfg.CompressedRegister || len(table.TopicConfigTable) > compressTopicsMin
		rb := body.RegisterBrokerBody{TopicConfigSerializeWrapper: table, FilterServerList: []string{}}
		if compressed {
			a.cached = body.EncodeRegisterBody(&rb)
		} else {
			a.cached = body.EncodeJSON(rb)
		}
		a.cachedVersion, a.cachedCompressed = table.DataVersion, compressed
		a.cachedCRC = strconv.FormatInt(int64(crc32.ChecksumIEEE(a.cached)&0x7FFFFFFF), 10)
		// Info for large tables only (they change seldom): the size of
		// what each NameServer receives is worth seeing there.
		ev := a.log.Debug()
		if compressed {
			ev = a.log.Info()
		}
		ev.Int("topics", len(table.TopicConfigTable)).Bool("compressed", compressed).
			Int("bodyBytes", len(a.cached)).Msg("registration body built")
	}
	ext["compressed"] = strconv.FormatBool(a.cachedCompressed)
	ext["bodyCrc32"] = a.cachedCRC
	return ext, a.cached
}

// link talks to one NameServer, one request at a time.
type link struct {
	idx    int
	addr   string
	client *netio.Client
	log    zerolog.Logger
	base   context.Context
}

// Receive sends one request and reports the outcome to the registrar.
// Blocking Invoke is fine here: the link's mailbox holds only its own work.
func (l *link) Receive(ctx actor.Context) {
	req, ok := ctx.Message().(*linkRequest)
	if !ok {
		return
	}
	err := l.invoke(req)
	ctx.Send(ctx.Parent(), &linkDone{idx: l.idx, unregister: req.unregister, err: err})
}

func (l *link) invoke(req *linkRequest) error {
	ctx, cancel := context.WithTimeout(l.base, req.timeout)
	defer cancel()
	resp, err := l.client.Invoke(ctx, l.addr, req.cmd)
	if err == nil && resp.Code != remoting.RespSuccess {
		err = fmt.Errorf("registrar: %s answered code %d: %s", l.addr, resp.Code, resp.Remark)
	}
	ev := l.log.Debug()
	if err != nil {
		ev = l.log.Warn().Err(err)
	}
	ev.Str("namesrv", l.addr).Int32("code", req.cmd.Code).Msg("nameserver request done")
	return err
}
