package admin

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// ErrBody is wrapped by every failure to decode message records.
var ErrBody = errors.New("admin: malformed body")

// ToolsConsumerGroup is the group Java's tools pull with.
const ToolsConsumerGroup = "TOOLS_CONSUMER"

// bodyBytesMax bounds a decompressed body (Java's maxMessageSize is 4 MiB;
// the extra room only guards against a decompression bomb).
const bodyBytesMax = 64 << 20

// Message is a decoded record as the admin tool shows it.
type Message struct {
	message.Message
	Props       map[string]string
	OffsetMsgID string
	BrokerName  string // the broker it was read from, when known
}

// MsgID is the id users see: UNIQ_KEY when the producer set one, else the
// offset message id (wire-protocol.md §9.4).
func (m *Message) MsgID() string {
	if id := m.Props[message.PropertyUniqKey]; id != "" {
		return id
	}
	return m.OffsetMsgID
}

// DecodeMessages decodes a pull, query or view body (concatenated records,
// CRC-checked) and inflates compressed bodies. It never panics.
func DecodeMessages(b []byte, brokerName string) ([]Message, error) {
	var out []Message
	for len(b) > 0 {
		rec, n, err := message.DecodeRecord(b, true)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrBody, len(out), err)
		}
		b = b[n:]
		if rec.SysFlag&message.SysFlagCompressed != 0 {
			if rec.Body, err = inflate(rec.Body); err != nil {
				return nil, fmt.Errorf("%w: record %d: %w", ErrBody, len(out), err)
			}
		}
		out = append(out, Message{
			Message:     rec,
			Props:       message.ParseProperties(rec.Properties),
			OffsetMsgID: message.OffsetMsgID(rec.StoreHost, rec.PhysicalOffset),
			BrokerName:  brokerName,
		})
	}
	return out, nil
}

func inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("compressed body: %w", err)
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, bodyBytesMax+1))
	if err != nil {
		return nil, fmt.Errorf("compressed body: %w", err)
	}
	if len(out) > bodyBytesMax {
		return nil, fmt.Errorf("compressed body inflates beyond %d bytes", bodyBytesMax)
	}
	return out, nil
}

// ViewMessage asks VIEW_MESSAGE_BY_ID (33) for the record at a commit-log
// offset of the broker at addr.
func (a *Admin) ViewMessage(ctx context.Context, addr string, offset int64) (*Message, error) {
	ext := map[string]string{"offset": strconv.FormatInt(offset, 10)}
	resp, err := a.broker(ctx, addr, remoting.NewRequest(remoting.ReqViewMessageByID, ext, nil))
	if err != nil {
		return nil, err
	}
	msgs, err := DecodeMessages(resp.Body, "")
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("%w: view answer holds %d records, want 1", ErrBody, len(msgs))
	}
	return &msgs[0], nil
}

// Query is a QUERY_MESSAGE search.
type Query struct {
	Topic, Key string
	MaxNum     int
	Begin, End int64 // store-time range, ms
	// UniqKey looks up a client message id (UNIQ_KEY) instead of a KEYS entry.
	UniqKey bool
}

// QueryMessage asks QUERY_MESSAGE (12) of every master in the topic's route
// and keeps the records that really match (the index matches by hash):
// topic and one of KEYS equal to the key, or for a unique-key query the
// UNIQ_KEY, earliest copy only. No match is NO_MESSAGE, as in Java.
func (a *Admin) QueryMessage(ctx context.Context, q Query) ([]Message, error) {
	route, err := a.Route(ctx, q.Topic)
	if err != nil {
		return nil, err
	}
	ext := map[string]string{
		"topic": q.Topic, "key": q.Key, "maxNum": strconv.Itoa(q.MaxNum),
		"beginTimestamp": strconv.FormatInt(q.Begin, 10), "endTimestamp": strconv.FormatInt(q.End, 10),
	}
	if q.UniqKey {
		ext["_UNIQUE_KEY_QUERY"] = "true"
	}
	var found []Message
	names, addrs := RouteMasters(route)
	for i, addr := range addrs {
		resp, err := a.invoke(ctx, brokerPeer, addr, remoting.NewRequest(remoting.ReqQueryMessage, ext, nil), 3)
		if err != nil {
			return nil, err
		}
		switch resp.Code {
		case remoting.RespSuccess:
		case remoting.RespQueryNotFound:
			continue
		default:
			return nil, fmt.Errorf("broker %s: %w", addr, &CodeError{Code: resp.Code, Remark: resp.Remark})
		}
		msgs, err := DecodeMessages(resp.Body, names[i])
		if err != nil {
			return nil, fmt.Errorf("broker %s: %w", addr, err)
		}
		for _, m := range msgs {
			if q.matches(&m) {
				found = append(found, m)
			}
		}
	}
	if q.UniqKey && len(found) > 1 {
		first := found[0]
		for _, m := range found[1:] {
			if m.StoreTimestamp < first.StoreTimestamp {
				first = m
			}
		}
		found = []Message{first}
	}
	if len(found) == 0 {
		return nil, &CodeError{Code: RespNoMessage, Remark: fmt.Sprintf("no message with key %s in topic %s", q.Key, q.Topic)}
	}
	return found, nil
}

func (q *Query) matches(m *Message) bool {
	if q.UniqKey {
		return m.Props[message.PropertyUniqKey] == q.Key
	}
	if m.Topic != q.Topic {
		return false
	}
	for _, k := range strings.Split(m.Props[message.PropertyKeys], " ") {
		if k == q.Key {
			return true
		}
	}
	return false
}

// PullStatus is the outcome of a pull, named as Java's PullStatus.
type PullStatus string

// Pull outcomes.
const (
	PullFound         PullStatus = "FOUND"
	PullNoNewMsg      PullStatus = "NO_NEW_MSG"
	PullNoMatchedMsg  PullStatus = "NO_MATCHED_MSG"
	PullOffsetIllegal PullStatus = "OFFSET_ILLEGAL"
)

// PullResult is a pull's answer.
type PullResult struct {
	Status                                PullStatus
	NextBeginOffset, MinOffset, MaxOffset int64
	Messages                              []Message
}

// Pull reads up to maxNums messages of one queue from offset with a tag
// expression ("*" for all), without suspending and without committing, as
// Java's DefaultMQPullConsumer.pull does with the TOOLS_CONSUMER group.
// Tags are re-checked client-side (the broker filters by hash only).
func (a *Admin) Pull(ctx context.Context, addr string, mq body.MessageQueue, offset int64, maxNums int, expression string) (*PullResult, error) {
	ext := map[string]string{
		"consumerGroup":        ToolsConsumerGroup,
		"topic":                mq.Topic,
		"queueId":              strconv.Itoa(int(mq.QueueID)),
		"queueOffset":          strconv.FormatInt(offset, 10),
		"maxMsgNums":           strconv.Itoa(maxNums),
		"sysFlag":              "4", // subscription from this request; no suspend, no commit
		"commitOffset":         "0",
		"suspendTimeoutMillis": "0",
		"subscription":         expression,
		"subVersion":           "0",
		"expressionType":       body.ExpressionTag,
	}
	resp, err := a.invoke(ctx, brokerPeer, addr, remoting.NewRequest(remoting.ReqPullMessage, ext, nil), 3)
	if err != nil {
		return nil, err
	}
	res := &PullResult{}
	switch resp.Code {
	case remoting.RespSuccess:
		res.Status = PullFound
	case remoting.RespPullNotFound:
		res.Status = PullNoNewMsg
	case remoting.RespPullRetryImmediately:
		res.Status = PullNoMatchedMsg
	case remoting.RespPullOffsetMoved:
		res.Status = PullOffsetIllegal
	default:
		return nil, fmt.Errorf("pull %s/%d at %d: %w", mq.Topic, mq.QueueID, offset, &CodeError{Code: resp.Code, Remark: resp.Remark})
	}
	for key, dst := range map[string]*int64{"nextBeginOffset": &res.NextBeginOffset, "minOffset": &res.MinOffset, "maxOffset": &res.MaxOffset} {
		if *dst, err = resp.RequiredInt64(key); err != nil {
			return nil, fmt.Errorf("pull answer from %s: %w", addr, err)
		}
	}
	if res.Status != PullFound {
		return res, nil
	}
	msgs, err := DecodeMessages(resp.Body, mq.BrokerName)
	if err != nil {
		return nil, fmt.Errorf("pull answer from %s: %w", addr, err)
	}
	tags := expressionTags(expression)
	for _, m := range msgs {
		if tags == nil || tags[m.Props[message.PropertyTags]] {
			// Java's pull consumer stamps the queue's range on each message.
			m.Props[message.PropertyMinOffset] = strconv.FormatInt(res.MinOffset, 10)
			m.Props[message.PropertyMaxOffset] = strconv.FormatInt(res.MaxOffset, 10)
			res.Messages = append(res.Messages, m)
		}
	}
	if len(res.Messages) == 0 {
		res.Status = PullNoMatchedMsg
	}
	return res, nil
}

// expressionTags splits "A || B" into a set; nil means every tag.
func expressionTags(expr string) map[string]bool {
	expr = strings.TrimSpace(expr)
	if expr == "" || expr == "*" {
		return nil
	}
	set := map[string]bool{}
	for _, t := range strings.Split(expr, "||") {
		if t = strings.TrimSpace(t); t != "" {
			set[t] = true
		}
	}
	return set
}

// Outgoing is a message to send.
type Outgoing struct {
	Topic, Tags, Keys string
	Body              []byte
}

// SendResult is a send's answer.
type SendResult struct {
	Status      string // SEND_OK, FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE
	Queue       body.MessageQueue
	MsgID       string // the UNIQ_KEY this tool set
	OffsetMsgID string
	QueueOffset int64
}

// sendStatuses are the response codes that mean the message was stored.
var sendStatuses = map[int32]string{
	remoting.RespSuccess:           "SEND_OK",
	remoting.RespFlushDiskTimeout:  "FLUSH_DISK_TIMEOUT",
	remoting.RespFlushSlaveTimeout: "FLUSH_SLAVE_TIMEOUT",
	remoting.RespSlaveNotAvailable: "SLAVE_NOT_AVAILABLE",
}

// ErrNoQueue is wrapped when a topic has no queue to send to.
var ErrNoQueue = errors.New("no writable queue")

// Send sends one message with SEND_MESSAGE (10) to queue queueID of
// brokerName, or, when brokerName is "", to a queue picked like Java's
// producer (round robin from a random start over the writable queues of
// every master).
func (a *Admin) Send(ctx context.Context, m Outgoing, brokerName string, queueID int32) (*SendResult, error) {
	route, err := a.Route(ctx, m.Topic)
	if err != nil {
		return nil, err
	}
	mq, addr, err := pickQueue(route, m.Topic, brokerName, queueID)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", m.Topic, err)
	}
	props := map[string]string{message.PropertyWait: "true", message.PropertyUniqKey: newUniqKey()}
	if m.Tags != "" {
		props[message.PropertyTags] = m.Tags
	}
	if m.Keys != "" {
		props[message.PropertyKeys] = m.Keys
	}
	ext := map[string]string{
		"producerGroup":         strconv.FormatInt(time.Now().UnixMilli(), 10), // Java's tool does the same
		"topic":                 m.Topic,
		"defaultTopic":          body.DefaultTopic,
		"defaultTopicQueueNums": "4",
		"queueId":               strconv.Itoa(int(mq.QueueID)),
		"sysFlag":               "0",
		"bornTimestamp":         strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag":                  "0",
		"properties":            message.FormatProperties(props),
		"reconsumeTimes":        "0",
		"unitMode":              "false",
		"batch":                 "false",
	}
	resp, err := a.invoke(ctx, brokerPeer, addr, remoting.NewRequest(remoting.ReqSendMessage, ext, m.Body), 1)
	if err != nil {
		return nil, err
	}
	status, ok := sendStatuses[resp.Code]
	if !ok {
		return nil, fmt.Errorf("broker %s: %w", addr, &CodeError{Code: resp.Code, Remark: resp.Remark})
	}
	res := &SendResult{Status: status, Queue: mq, MsgID: props[message.PropertyUniqKey]}
	res.OffsetMsgID, _ = resp.Ext("msgId")
	if qid, err := resp.OptionalInt32("queueId", mq.QueueID); err == nil {
		res.Queue.QueueID = qid
	}
	res.QueueOffset, _ = resp.OptionalInt64("queueOffset", -1)
	return res, nil
}

// pickQueue chooses the queue and master address for a send.
func pickQueue(route *body.TopicRouteData, topic, brokerName string, queueID int32) (body.MessageQueue, string, error) {
	masters := map[string]string{}
	for _, bd := range route.BrokerDatas {
		if addr := MasterAddr(bd); addr != "" {
			masters[bd.BrokerName] = addr
		}
	}
	if brokerName != "" {
		addr, ok := masters[brokerName]
		if !ok {
			return body.MessageQueue{}, "", fmt.Errorf("%w: broker %s has no master in the route", ErrNoQueue, brokerName)
		}
		return body.MessageQueue{Topic: topic, BrokerName: brokerName, QueueID: queueID}, addr, nil
	}
	var queues []body.MessageQueue
	names, _ := RouteMasters(route)
	for _, name := range names {
		for _, qd := range route.QueueDatas {
			if qd.BrokerName == name && qd.Perm&body.PermWrite != 0 {
				for q := int32(0); q < qd.WriteQueueNums; q++ {
					queues = append(queues, body.MessageQueue{Topic: topic, BrokerName: name, QueueID: q})
				}
			}
		}
	}
	if len(queues) == 0 {
		return body.MessageQueue{}, "", ErrNoQueue
	}
	mq := queues[rand.IntN(len(queues))]
	return mq, masters[mq.BrokerName], nil
}

// newUniqKey builds a client message id shaped like Java's: IPv4(4) +
// pid(2) + random(4) + ms since the start of the month(4) + counter(2), as
// 32 uppercase hex digits. Brokers treat it as opaque.
func newUniqKey() string {
	var raw [16]byte
	copy(raw[:4], localIPv4())
	binary.BigEndian.PutUint16(raw[4:], uint16(os.Getpid()))
	binary.BigEndian.PutUint32(raw[6:], rand.Uint32())
	now := time.Now()
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	binary.BigEndian.PutUint32(raw[10:], uint32(now.Sub(monthStart).Milliseconds()&math.MaxUint32))
	binary.BigEndian.PutUint16(raw[14:], uint16(rand.Uint32()))
	return strings.ToUpper(hex.EncodeToString(raw[:]))
}

// localIPv4 is the first non-loopback IPv4 address of this host, or
// 127.0.0.1.
func localIPv4() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() {
				if v4 := ipn.IP.To4(); v4 != nil {
					return v4
				}
			}
		}
	}
	return net.IPv4(127, 0, 0, 1).To4()
}
