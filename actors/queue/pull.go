package queue

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/actormq/actormq/wire/sql92"
)

// PullSysFlag bits (wire-protocol.md §6.2).
const (
	pullFlagCommitOffset int32 = 1 << 0
	pullFlagSuspend      int32 = 1 << 1
	pullFlagSubscription int32 = 1 << 2
)

// suspendDefault is used when a suspending pull omits suspendTimeoutMillis
// (Java requires the field; Java clients send 15 s).
const suspendDefault = 15 * time.Second

// pullReq is one PULL_MESSAGE / LITE_PULL_MESSAGE in flight, reduced to
// what answering it needs (neither the decoded Command nor its strings are
// kept: key.Topic and group own their memory, pullnames.go). It has one
// owner at a time: the gnet loop that decoded it, then the queue actor, or
// the registry actor while the queue does not exist; either may hold it
// (hold.go). It is pooled: pullOutcome.write returns it to the pool, so
// nothing keeps a pointer to a request once it is answered.
type pullReq struct {
	conn       Conn
	opaque     int32 // the request's, echoed by the answer
	key        store.QueueKey
	group      string
	offset     int64
	maxMsgNums int32
	filter     filter
	// suspend is true while the request may be held: the original request
	// of a client that allows suspension, also when handed from the
	// registry to a new queue actor. Held requests answered because the
	// queue advanced or their deadline came have it false: they answer
	// whatever they find.
	suspend  bool
	hold     time.Duration // how long it may be held in all
	deadline time.Time     // set when first held
}

var pullReqs sync.Pool

func newPullReq() *pullReq {
	if req, ok := pullReqs.Get().(*pullReq); ok {
		return req
	}
	return &pullReq{}
}

// release recycles an answered request. Its owner calls it once, after the
// answer was queued.
func (req *pullReq) release() {
	*req = pullReq{}
	pullReqs.Put(req)
}

// pullHeader is the decoded request header.
type pullHeader struct {
	group          string
	topic          string
	queueID        int32
	queueOffset    int64
	maxMsgNums     int32
	sysFlag        int32
	commitOffset   int64
	suspendTimeout time.Duration
	subscription   string
	subVersion     int64
	expressionType string
}

func parsePullHeader(cmd *remoting.Command) (pullHeader, error) {
	var h pullHeader
	var err error
	if h.group, err = cmd.RequiredString("consumerGroup"); err != nil {
		return h, err
	}
	if h.topic, err = cmd.RequiredString("topic"); err != nil {
		return h, err
	}
	if h.queueID, err = cmd.RequiredInt32("queueId"); err != nil {
		return h, err
	}
	if h.queueOffset, err = cmd.RequiredInt64("queueOffset"); err != nil {
		return h, err
	}
	if h.maxMsgNums, err = cmd.RequiredInt32("maxMsgNums"); err != nil {
		return h, err
	}
	if h.sysFlag, err = cmd.RequiredInt32("sysFlag"); err != nil {
		return h, err
	}
	if h.commitOffset, err = cmd.OptionalInt64("commitOffset", -1); err != nil {
		return h, err
	}
	ms, err := cmd.OptionalInt64("suspendTimeoutMillis", suspendDefault.Milliseconds())
	if err != nil {
		return h, err
	}
	h.suspendTimeout = time.Duration(ms) * time.Millisecond
	if h.subVersion, err = cmd.OptionalInt64("subVersion", 0); err != nil {
		return h, err
	}
	h.subscription, _ = cmd.Ext("subscription")
	h.expressionType, _ = cmd.Ext("expressionType")
	return h, nil
}

// filter is a subscription reduced to what a pull tests: tag hash codes
// against each consume-queue unit (wire-protocol.md §11.1), and for SQL92
// subscriptions a compiled selector against each record's properties
// (§11.2; all is then true: every tags code passes).
type filter struct {
	all   bool
	codes []int32
	sql   *sql92.Expr
}

func (f *filter) match(tagsCode int64) bool {
	if f.all {
		return true
	}
	c := int32(tagsCode)
	for _, x := range f.codes {
		if x == c {
			return true
		}
	}
	return false
}

// isSQL92 reports an SQL92 expression type.
func isSQL92(expressionType string) bool {
	return strings.EqualFold(expressionType, body.ExpressionSQL92)
}

// filterFromExpression builds the filter of a pull that carries its
// subscription: an SQL92 selector is compiled (through cache); for tags "*"
// or "" match all, else tags split on "||" and trimmed.
func filterFromExpression(expr, expressionType string, cache *sqlCache) (filter, error) {
	if isSQL92(expressionType) {
		return sqlFilter(expr, cache)
	}
	expr = strings.TrimSpace(expr)
	if expr == "" || expr == body.SubAll {
		return filter{all: true}, nil
	}
	var f filter
	for tag := range strings.SplitSeq(expr, "||") {
		if tag = strings.TrimSpace(tag); tag != "" {
			f.codes = append(f.codes, int32(message.TagsHashCode(tag)))
		}
	}
	if len(f.codes) == 0 {
		f.all = true
	}
	return f, nil
}

// filterFromSubscription builds the filter from a heartbeat-registered
// subscription: its SQL92 selector compiled (through cache), or the
// client-sent codeSet as Java does (hashes of the tagsSet when a client
// sent no codes).
func filterFromSubscription(sd *body.SubscriptionData, cache *sqlCache) (filter, error) {
	if isSQL92(sd.ExpressionType) {
		return sqlFilter(sd.SubString, cache)
	}
	sub := strings.TrimSpace(sd.SubString)
	if sub == "" || sub == body.SubAll {
		return filter{all: true}, nil
	}
	if len(sd.CodeSet) > 0 {
		return filter{codes: sd.CodeSet}, nil
	}
	if len(sd.TagsSet) > 0 {
		f := filter{codes: make([]int32, 0, len(sd.TagsSet))}
		for _, t := range sd.TagsSet {
			f.codes = append(f.codes, int32(message.TagsHashCode(t)))
		}
		return f, nil
	}
	return filterFromExpression(sub, sd.ExpressionType, cache)
}

// handlePull runs on a gnet loop: parse, validate (§6.2 order), build the
// filter, commit a piggybacked offset, then answer at once when recent
// messages are there (loopread.go), else Send the request to its queue.
//
// It is cmd's last owner and releases it on return: a decoded pull lives
// in a pooled frame (wire/remoting's framepool.go), and so do the strings
// of h. Nothing read from either outlives the call: the request and the
// offset commit carry owned copies of group and topic (pullnames.go).
func (r *Registry) handlePull(c Conn, cmd *remoting.Command) {
	defer cmd.Release()
	h, err := parsePullHeader(cmd)
	if err != nil {
		r.writePullError(c, cmd, &h, err)
		return
	}
	req, err := r.validatePull(c, cmd, &h)
	if err != nil {
		r.writePullError(c, cmd, &h, err)
		return
	}
	if h.sysFlag&pullFlagCommitOffset != 0 && r.cfg.Offsets != nil && r.cfg.Broker.BrokerRole != config.RoleSlave {
		r.cfg.Offsets.Commit(req.group, req.key.Topic, h.queueID, h.commitOffset)
	}
	if r.answerOnLoop(req) {
		return
	}
	r.route(req.key, req)
}

// validatePull checks permissions, topic, queue and subscription and builds
// the request. Missing group configuration checks (consumeEnable,
// broadcast) belong to the control plane and are not made here.
func (r *Registry) validatePull(c Conn, cmd *remoting.Command, h *pullHeader) (*pullReq, error) {
	b := &r.cfg.Broker
	if b.BrokerPermission&body.PermRead == 0 {
		return nil, fmt.Errorf("%w: the broker[%s] pulling message is forbidden", reply.ErrNoPermission, b.BrokerIP1)
	}
	tc, ok := r.cfg.Topics.Topic(h.topic)
	if !ok {
		return nil, fmt.Errorf("%w: topic[%s] not exist, apply first please!", reply.ErrTopicNotExist, h.topic)
	}
	if tc.Perm&body.PermRead == 0 {
		return nil, fmt.Errorf("%w: the topic[%s] pulling message is forbidden", reply.ErrNoPermission, h.topic)
	}
	if h.queueID < 0 || h.queueID >= tc.ReadQueueNums {
		return nil, fmt.Errorf("%w: queueId[%d] is illegal, topic:[%s] topicConfig.readQueueNums:[%d] consumer:[%s]",
			reply.ErrInvalidParameter, h.queueID, h.topic, tc.ReadQueueNums, h.group)
	}
	var sd body.SubscriptionData
	exprType := h.expressionType
	if h.sysFlag&pullFlagSubscription == 0 {
		var ok bool
		if sd, ok = r.cfg.Subscriptions.Subscription(h.group, h.topic); !ok {
			return nil, fmt.Errorf("%w: the consumer's subscription not exist, group: %s topic: %s",
				reply.ErrSubscriptionNotExist, h.group, h.topic)
		}
		if sd.SubVersion < h.subVersion {
			return nil, fmt.Errorf("%w: the consumer's subscription not latest, group: %s topic: %s",
				reply.ErrSubscriptionNotLatest, h.group, h.topic)
		}
		exprType = sd.ExpressionType
	}
	// Before compiling, as Java checks: any SQL92 pull, even one whose
	// selector does not compile, is SYSTEM_ERROR while filtering is off.
	if isSQL92(exprType) && !b.EnablePropertyFilter {
		return nil, errPropertyFilterOff(exprType)
	}
	var f filter
	var err error
	if h.sysFlag&pullFlagSubscription != 0 {
		f, err = filterFromExpression(h.subscription, exprType, &r.sqlFilters)
	} else {
		f, err = filterFromSubscription(&sd, &r.sqlFilters)
	}
	if err != nil {
		return nil, err
	}
	hold := h.suspendTimeout
	if !b.LongPollingEnable {
		hold = b.ShortPollingTimeMills
	}
	// The topic table's name when it is the same string (always, in a
	// broker), else a copy: the request outlives h (pullnames.go).
	topic := tc.TopicName
	if topic != h.topic {
		topic = strings.Clone(h.topic)
	}
	req := newPullReq()
	*req = pullReq{
		conn:       c,
		opaque:     cmd.Opaque,
		key:        store.QueueKey{Topic: topic, QueueID: h.queueID},
		group:      groupNames.get(h.group),
		offset:     h.queueOffset,
		maxMsgNums: h.maxMsgNums,
		filter:     f,
		suspend:    h.sysFlag&pullFlagSuspend != 0,
		hold:       min(max(hold, 0), r.cfg.SuspendMax),
	}
	return req, nil
}

// writePullError answers a rejected pull. Every pull response carries the
// four offset fields: ali-ons reads nextBeginOffset from every answer and
// Java clients require them (§6.2).
func (r *Registry) writePullError(c Conn, cmd *remoting.Command, h *pullHeader, err error) {
	resp := reply.Error(cmd, err)
	setPullExt(resp, h.queueOffset, r.MinOffset(h.topic, h.queueID), r.ServedMaxOffset(h.topic, h.queueID))
	_ = c.Write(resp)
}

func setPullExt(resp *remoting.Command, next, minOffset, maxOffset int64) {
	resp.ExtFields = map[string]string{
		"nextBeginOffset":      strconv.FormatInt(next, 10),
		"minOffset":            strconv.FormatInt(minOffset, 10),
		"maxOffset":            strconv.FormatInt(maxOffset, 10),
		"suggestWhichBrokerId": "0",
	}
}
