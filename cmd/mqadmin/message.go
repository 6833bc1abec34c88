package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actormq/actormq/cmd/mqadmin/internal/admin"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

// checkCharset accepts the only body charset this tool decodes, UTF-8
// (Java's tool takes any JVM charset name).
func checkCharset(flag, name string) error {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(name), "-", "")) {
	case "", "UTF8":
		return nil
	}
	return usageErrorf("--%s: only UTF-8 is supported, got %q", flag, name)
}

// bodyDir is where message details save bodies, as Java's
// /tmp/rocketmq/msgbodys.
func bodyDir() string { return filepath.Join(os.TempDir(), "rocketmq", "msgbodys") }

// showMessage saves the body of m under bodyDir, as Java does, and prints
// the message's details with the path.
func showMessage(w io.Writer, m *admin.Message, printBody bool) error {
	dir := bodyDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving the message body: %w", err)
	}
	path := filepath.Join(dir, m.OffsetMsgID)
	if err := os.WriteFile(path, m.Body, 0o644); err != nil {
		return fmt.Errorf("saving the message body: %w", err)
	}
	printMessageDetail(w, m, path, printBody)
	return nil
}

// printMessageDetail prints one message as queryMsgById does; printBody
// adds the body as text (Java 5's -f bodyFormat).
func printMessageDetail(w io.Writer, m *admin.Message, bodyPath string, printBody bool) {
	line := func(label, value string) { fmt.Fprintf(w, "%-20s %s\n", label, value) }
	line("OffsetID:", m.OffsetMsgID)
	line("Topic:", m.Topic)
	line("Tags:", "["+javaNullable(m.Props, message.PropertyTags)+"]")
	line("Keys:", "["+javaNullable(m.Props, message.PropertyKeys)+"]")
	line("Queue ID:", strconv.Itoa(int(m.QueueID)))
	line("Queue Offset:", strconv.FormatInt(m.QueueOffset, 10))
	line("CommitLog Offset:", strconv.FormatInt(m.PhysicalOffset, 10))
	line("Reconsume Times:", strconv.Itoa(int(m.ReconsumeTimes)))
	line("Born Timestamp:", humanTime2(m.BornTimestamp))
	line("Store Timestamp:", humanTime2(m.StoreTimestamp))
	line("Born Host:", hostPort(m.BornHost))
	line("Store Host:", hostPort(m.StoreHost))
	line("System Flag:", strconv.Itoa(int(m.SysFlag)))
	line("Properties:", javaMap(m.Props))
	line("Message Body Path:", bodyPath)
	if printBody {
		line("Message Body:", string(m.Body))
	}
}

// javaNullable is props[key], or "null" when absent (Java prints null).
func javaNullable(props map[string]string, key string) string {
	if v, ok := props[key]; ok {
		return v
	}
	return "null"
}

// messageExtString is MessageExt.toString as Java's printMsg prints it.
func messageExtString(m *admin.Message) string {
	brokerName := m.BrokerName
	if brokerName == "" {
		brokerName = "null"
	}
	return fmt.Sprintf("MessageExt [brokerName=%s, queueId=%d, storeSize=%d, queueOffset=%d, sysFlag=%d, bornTimestamp=%d, bornHost=%s, storeTimestamp=%d, storeHost=%s, msgId=%s, commitLogOffset=%d, bodyCRC=%d, reconsumeTimes=%d, preparedTransactionOffset=%d, toString()=Message{topic='%s', flag=%d, properties=%s, body=%s, transactionId='%s'}]",
		brokerName, m.QueueID, m.TotalSize, m.QueueOffset, m.SysFlag, m.BornTimestamp, socketAddr(m.BornHost),
		m.StoreTimestamp, socketAddr(m.StoreHost), m.OffsetMsgID, m.PhysicalOffset, int32(m.BodyCRC), m.ReconsumeTimes,
		m.PreparedTransactionOffset, m.Topic, m.Flag, javaMap(m.Props), javaBytes(m.Body),
		javaNullable(m.Props, message.PropertyTransactionID))
}

func queryMsgByIDCmd(r *rootCommand) *cobra.Command {
	var ids, topic, bodyFormat string
	c := &cobra.Command{Use: "queryMsgById", Short: "Print messages found by offset message id or unique key", Args: cobra.NoArgs}
	c.Flags().StringVarP(&ids, "msgId", "i", "", "message ids, comma separated: offset message ids, or unique keys with -t")
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic to search for unique keys (client message ids)")
	c.Flags().StringVarP(&bodyFormat, "bodyFormat", "f", "", "also print the body in this charset (UTF-8 only)")
	_ = c.MarkFlagRequired("msgId")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		if err := checkCharset("bodyFormat", bodyFormat); err != nil {
			return err
		}
		ci, err := a.ClusterInfo(ctx)
		if err != nil {
			return err
		}
		for _, id := range strings.Split(ids, ",") {
			if id = strings.TrimSpace(id); id == "" {
				continue
			}
			m, err := findByID(ctx, a, ci, strings.TrimSpace(topic), id)
			if err != nil {
				return err
			}
			if err := showMessage(s.out, m, bodyFormat != ""); err != nil {
				return err
			}
		}
		return nil
	})
	return c
}

// findByID looks a message id up: an offset message id that points at a
// registered broker is read there (VIEW_MESSAGE_BY_ID); anything else is
// taken as a unique key and searched in topic. Checking the address first
// avoids dialing the random "address" a unique key decodes to.
func findByID(ctx context.Context, a *admin.Admin, ci *body.ClusterInfo, topic, id string) (*admin.Message, error) {
	if host, offset, err := message.ParseOffsetMsgID(id); err == nil {
		addr := hostPort(host)
		if _, known := admin.BrokerNameByAddr(ci, addr); known {
			m, err := a.ViewMessage(ctx, addr, offset)
			if err != nil {
				return nil, fmt.Errorf("message %s: %w", id, err)
			}
			return m, nil
		}
	}
	if topic == "" {
		return nil, fmt.Errorf("message %s: not an offset message id of a registered broker; give -t <topic> to look it up as a unique key", id)
	}
	msgs, err := a.QueryMessage(ctx, admin.Query{Topic: topic, Key: id, MaxNum: 32, End: math.MaxInt64, UniqKey: true})
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	return &msgs[0], nil
}

func queryMsgByKeyCmd(r *rootCommand) *cobra.Command {
	var (
		topic, key string
		begin, end int64
		maxNum     int
	)
	c := &cobra.Command{Use: "queryMsgByKey", Short: "List the messages of a topic that carry a key", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().StringVarP(&key, "msgKey", "k", "", "the key (one of the message's KEYS)")
	c.Flags().Int64VarP(&begin, "beginTimestamp", "b", 0, "earliest store time, ms")
	c.Flags().Int64VarP(&end, "endTimestamp", "e", math.MaxInt64, "latest store time, ms")
	c.Flags().IntVarP(&maxNum, "maxNum", "m", 64, "at most this many messages per broker")
	_ = c.MarkFlagRequired("topic")
	_ = c.MarkFlagRequired("msgKey")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		msgs, err := a.QueryMessage(ctx, admin.Query{Topic: strings.TrimSpace(topic), Key: strings.TrimSpace(key),
			MaxNum: maxNum, Begin: begin, End: end})
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%-50s %4s %40s\n", "#Message ID", "#QID", "#Offset")
		for i := range msgs {
			fmt.Fprintf(s.out, "%-50s %4d %40d\n", msgs[i].MsgID(), msgs[i].QueueID, msgs[i].QueueOffset)
		}
		return nil
	})
	return c
}

// brokerMaster finds the master address of brokerName in a topic's route.
func brokerMaster(ctx context.Context, a *admin.Admin, topic, brokerName string) (string, error) {
	route, err := a.Route(ctx, topic)
	if err != nil {
		return "", err
	}
	names, addrs := admin.RouteMasters(route)
	for i, n := range names {
		if n == brokerName {
			return addrs[i], nil
		}
	}
	return "", fmt.Errorf("topic %s: broker %s has no master in the route", topic, brokerName)
}

func queryMsgByOffsetCmd(r *rootCommand) *cobra.Command {
	var (
		topic, brokerName, bodyFormat string
		queueID                       int32
		offset                        int64
	)
	c := &cobra.Command{Use: "queryMsgByOffset", Short: "Print the message at an offset of one queue", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().StringVarP(&brokerName, "brokerName", "b", "", "the broker name of the queue")
	c.Flags().Int32VarP(&queueID, "queueId", "i", 0, "the queue id")
	c.Flags().Int64VarP(&offset, "offset", "o", 0, "the offset in the queue")
	c.Flags().StringVarP(&bodyFormat, "bodyFormat", "f", "", "also print the body in this charset (UTF-8 only)")
	for _, f := range []string{"topic", "brokerName", "queueId", "offset"} {
		_ = c.MarkFlagRequired(f)
	}
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		if err := checkCharset("bodyFormat", bodyFormat); err != nil {
			return err
		}
		mq := body.MessageQueue{Topic: strings.TrimSpace(topic), BrokerName: strings.TrimSpace(brokerName), QueueID: queueID}
		addr, err := brokerMaster(ctx, a, mq.Topic, mq.BrokerName)
		if err != nil {
			return err
		}
		res, err := a.Pull(ctx, addr, mq, offset, 1, "*")
		if err != nil {
			return err
		}
		if res.Status != admin.PullFound {
			return fmt.Errorf("no message at offset %d of %s (%s; queue offsets %d..%d)",
				offset, queueString(mq), res.Status, res.MinOffset, res.MaxOffset)
		}
		return showMessage(s.out, &res.Messages[0], bodyFormat != "")
	})
	return c
}

// queueString is MessageQueue.toString.
func queueString(mq body.MessageQueue) string {
	return fmt.Sprintf("MessageQueue [topic=%s, brokerName=%s, queueId=%d]", mq.Topic, mq.BrokerName, mq.QueueID)
}

func sendMessageCmd(r *rootCommand) *cobra.Command {
	var (
		topic, msgBody, keys, tags, brokerName, trace string
		queueID                                       int32
	)
	c := &cobra.Command{Use: "sendMessage", Short: "Send one message", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().StringVarP(&msgBody, "body", "p", "", "the body, as text")
	c.Flags().StringVarP(&keys, "key", "k", "", "keys, space separated")
	c.Flags().StringVarP(&tags, "tags", "c", "", "the tag")
	c.Flags().StringVarP(&brokerName, "broker", "b", "", "the broker name of the queue given with -i")
	c.Flags().Int32VarP(&queueID, "qid", "i", -1, "send to this queue of the -b broker")
	c.Flags().StringVarP(&trace, "msgTraceEnable", "m", "false", "message trace (not supported: only false)")
	_ = c.MarkFlagRequired("topic")
	_ = c.MarkFlagRequired("body")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		brokerName := strings.TrimSpace(brokerName)
		if c.Flags().Changed("qid") && brokerName == "" {
			return usageErrorf("--qid needs --broker: a queue id names a queue of one broker")
		}
		traced, err := javaBool("msgTraceEnable", trace)
		if err != nil {
			return err
		}
		if traced {
			return usageErrorf("--msgTraceEnable: message trace is not supported")
		}
		if queueID < 0 {
			brokerName = "" // like Java: a broker without a queue picks any queue
		}
		res, err := a.Send(ctx, admin.Outgoing{Topic: strings.TrimSpace(topic), Tags: strings.TrimSpace(tags),
			Keys: strings.TrimSpace(keys), Body: []byte(strings.TrimSpace(msgBody))}, brokerName, queueID)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%-32s  %-4s  %-20s    %s\n", "#Broker Name", "#QID", "#Send Result", "#MsgId")
		fmt.Fprintf(s.out, "%-32s  %-4s  %-20s    %s\n", res.Queue.BrokerName, strconv.Itoa(int(res.Queue.QueueID)), res.Status, res.MsgID)
		return nil
	})
	return c
}

func printMsgCmd(r *rootCommand) *cobra.Command {
	var topic, charset, subExpr, begin, end, printBody string
	c := &cobra.Command{Use: "printMsg", Short: "Print every message of a topic, queue by queue", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().StringVarP(&charset, "charsetName", "c", "UTF-8", "charset of the bodies (UTF-8 only)")
	c.Flags().StringVarP(&subExpr, "subExpression", "s", "*", "only these tags, e.g. \"TagA || TagB\"")
	c.Flags().StringVarP(&begin, "beginTimestamp", "b", "", "start at this store time: ms or yyyy-MM-dd#HH:mm:ss:SSS")
	c.Flags().StringVarP(&end, "endTimestamp", "e", "", "stop at this store time: ms or yyyy-MM-dd#HH:mm:ss:SSS")
	c.Flags().StringVarP(&printBody, "printBody", "d", "true", "print the bodies (true|false)")
	_ = c.MarkFlagRequired("topic")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		if err := checkCharset("charsetName", charset); err != nil {
			return err
		}
		withBody, err := javaBool("printBody", printBody)
		if err != nil {
			return err
		}
		var beginMs, endMs int64
		if begin != "" {
			if beginMs, err = parseTimestamp(begin); err != nil {
				return usageErrorf("--beginTimestamp: %v", err)
			}
		}
		if end != "" {
			if endMs, err = parseTimestamp(end); err != nil {
				return usageErrorf("--endTimestamp: %v", err)
			}
		}
		topic := strings.TrimSpace(topic)
		route, err := a.Route(ctx, topic)
		if err != nil {
			return err
		}
		for _, q := range subscribeQueues(route, topic) {
			minOffset, maxOffset, err := queueRange(ctx, a, q, begin != "", beginMs, end != "", endMs)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "minOffset=%d, maxOffset=%d, %s\n", minOffset, maxOffset, queueString(q.mq))
			if err := printQueue(ctx, a, s.out, q, minOffset, maxOffset, strings.TrimSpace(subExpr), withBody); err != nil {
				return err
			}
			fmt.Fprintln(s.out, strings.Repeat("-", 56))
		}
		return nil
	})
	return c
}

// routedQueue is a queue with the master address serving it.
type routedQueue struct {
	mq   body.MessageQueue
	addr string
}

// subscribeQueues lists the readable queues of every master in the route,
// in queue order.
func subscribeQueues(route *body.TopicRouteData, topic string) []routedQueue {
	var out []routedQueue
	names, addrs := admin.RouteMasters(route)
	for i, name := range names {
		for _, qd := range route.QueueDatas {
			if qd.BrokerName != name || qd.Perm&body.PermRead == 0 {
				continue
			}
			for id := int32(0); id < qd.ReadQueueNums; id++ {
				out = append(out, routedQueue{mq: body.MessageQueue{Topic: topic, BrokerName: name, QueueID: id}, addr: addrs[i]})
			}
		}
	}
	return out
}

// queueRange is the offset range printMsg reads: the queue's min..max, with
// either end moved to the offset of a timestamp when given.
func queueRange(ctx context.Context, a *admin.Admin, q routedQueue, hasBegin bool, begin int64, hasEnd bool, end int64) (int64, int64, error) {
	lookup := func(name string, f func() (int64, error)) (int64, error) {
		v, err := f()
		if err != nil {
			return 0, fmt.Errorf("%s of %s: %w", name, queueString(q.mq), err)
		}
		return v, nil
	}
	minOffset, err := lookup("min offset", func() (int64, error) { return a.MinOffset(ctx, q.addr, q.mq.Topic, q.mq.QueueID) })
	if err != nil {
		return 0, 0, err
	}
	maxOffset, err := lookup("max offset", func() (int64, error) { return a.MaxOffset(ctx, q.addr, q.mq.Topic, q.mq.QueueID) })
	if err != nil {
		return 0, 0, err
	}
	if hasBegin {
		if minOffset, err = lookup("offset of begin", func() (int64, error) { return a.SearchOffset(ctx, q.addr, q.mq.Topic, q.mq.QueueID, begin) }); err != nil {
			return 0, 0, err
		}
	}
	if hasEnd {
		if maxOffset, err = lookup("offset of end", func() (int64, error) { return a.SearchOffset(ctx, q.addr, q.mq.Topic, q.mq.QueueID, end) }); err != nil {
			return 0, 0, err
		}
	}
	return minOffset, maxOffset, nil
}

// errNoProgress stops a queue scan whose pulls do not advance.
var errNoProgress = errors.New("the broker's next offset does not advance")

// printQueue pulls [from, to) of one queue 32 messages at a time and prints
// each message, as Java's printMsg does.
func printQueue(ctx context.Context, a *admin.Admin, w io.Writer, q routedQueue, from, to int64, expr string, withBody bool) error {
	for offset := from; offset < to; {
		res, err := a.Pull(ctx, q.addr, q.mq, offset, 32, expr)
		if err != nil {
			return err
		}
		if res.NextBeginOffset <= offset && res.Status != admin.PullNoNewMsg && res.Status != admin.PullOffsetIllegal {
			return fmt.Errorf("%s at offset %d: %w", queueString(q.mq), offset, errNoProgress)
		}
		offset = res.NextBeginOffset
		switch res.Status {
		case admin.PullFound:
			for i := range res.Messages {
				m := &res.Messages[i]
				text := "NOT PRINT BODY"
				if withBody {
					text = string(m.Body)
				}
				fmt.Fprintf(w, "MSGID: %s %s BODY: %s\n", m.MsgID(), messageExtString(m), text)
			}
		case admin.PullNoMatchedMsg:
			fmt.Fprintf(w, "%s no matched msg. status=%s, offset=%d\n", queueString(q.mq), res.Status, offset)
		default:
			fmt.Fprintf(w, "%s print msg finished. status=%s, offset=%d\n", queueString(q.mq), res.Status, offset)
			return nil
		}
	}
	return nil
}
