package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actormq/actormq/cmd/mqadmin/internal/admin"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// subGroupString is SubscriptionGroupConfig.toString.
func subGroupString(g body.SubscriptionGroupConfig) string {
	return fmt.Sprintf("SubscriptionGroupConfig [groupName=%s, consumeEnable=%t, consumeFromMinEnable=%t, consumeBroadcastEnable=%t, retryQueueNums=%d, retryMaxTimes=%d, brokerId=%d, whichBrokerWhenConsumeSlowly=%d, notifyConsumerIdsChangedEnable=%t]",
		g.GroupName, g.ConsumeEnable, g.ConsumeFromMinEnable, g.ConsumeBroadcastEnable, g.RetryQueueNums,
		g.RetryMaxTimes, g.BrokerID, g.WhichBrokerWhenConsumeSlowly, g.NotifyConsumerIDsChangedEnable)
}

func updateSubGroupCmd(r *rootCommand) *cobra.Command {
	var (
		t                                 brokerTarget
		group                             string
		consumeEnable, fromMin, broadcast string
		orderly, notify                   string
		retryQueues, retryMax             int32
		brokerID, slowBrokerID            int64
	)
	def := body.DefaultSubscriptionGroup("")
	c := &cobra.Command{Use: "updateSubGroup", Short: "Create a consumer group or change its settings", Args: cobra.NoArgs}
	t.flags(c, "on the broker at this address", "on every master of this cluster")
	f := c.Flags()
	f.StringVarP(&group, "groupName", "g", "", "the consumer group")
	f.StringVarP(&consumeEnable, "consumeEnable", "s", "true", "whether the group may consume (true|false)")
	f.StringVarP(&fromMin, "consumeFromMinEnable", "m", "false", "whether a new group starts at the min offset (true|false)")
	f.StringVarP(&broadcast, "consumeBroadcastEnable", "d", "false", "whether broadcast consumption is allowed (true|false)")
	f.StringVarP(&orderly, "consumeMessageOrderly", "o", "false", "whether the group consumes in order (true|false)")
	f.Int32VarP(&retryQueues, "retryQueueNums", "q", def.RetryQueueNums, "queues of the group's retry topic")
	f.Int32VarP(&retryMax, "retryMaxTimes", "r", def.RetryMaxTimes, "deliveries before a message goes to the dead-letter topic")
	f.Int64VarP(&brokerID, "brokerId", "i", def.BrokerID, "broker id the group reads from")
	f.Int64VarP(&slowBrokerID, "whichBrokerWhenConsumeSlowly", "w", def.WhichBrokerWhenConsumeSlowly, "broker id the group reads from when it lags")
	f.StringVarP(&notify, "notifyConsumerIdsChanged", "a", "true", "whether consumers hear of membership changes (true|false)")
	_ = c.MarkFlagRequired("groupName")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		cfg := body.DefaultSubscriptionGroup(strings.TrimSpace(group))
		for _, b := range []struct {
			flag, val string
			dst       *bool
		}{
			{"consumeEnable", consumeEnable, &cfg.ConsumeEnable},
			{"consumeFromMinEnable", fromMin, &cfg.ConsumeFromMinEnable},
			{"consumeBroadcastEnable", broadcast, &cfg.ConsumeBroadcastEnable},
			{"consumeMessageOrderly", orderly, &cfg.ConsumeMessageOrderly},
			{"notifyConsumerIdsChanged", notify, &cfg.NotifyConsumerIDsChangedEnable},
		} {
			v, err := javaBool(b.flag, b.val)
			if err != nil {
				return err
			}
			*b.dst = v
		}
		cfg.RetryQueueNums, cfg.RetryMaxTimes = retryQueues, retryMax
		cfg.BrokerID, cfg.WhichBrokerWhenConsumeSlowly = brokerID, slowBrokerID
		addrs, err := t.masters(ctx, a)
		if err != nil {
			return err
		}
		for _, addr := range addrs {
			if err := a.CreateSubscriptionGroup(ctx, addr, cfg); err != nil {
				return fmt.Errorf("group %s on %s: %w", cfg.GroupName, addr, err)
			}
			fmt.Fprintf(s.out, "create subscription group to %s success.\n", addr)
		}
		fmt.Fprintf(s.out, "%s\n", subGroupString(cfg))
		return nil
	})
	return c
}

func deleteSubGroupCmd(r *rootCommand) *cobra.Command {
	var (
		t            brokerTarget
		group        string
		removeOffset string
	)
	c := &cobra.Command{Use: "deleteSubGroup", Short: "Delete a consumer group from a broker or a cluster", Args: cobra.NoArgs}
	t.flags(c, "from the broker at this address", "from every master of this cluster, with its retry and dead-letter topics")
	c.Flags().StringVarP(&group, "groupName", "g", "", "the consumer group")
	c.Flags().StringVarP(&removeOffset, "removeOffset", "r", "false", "also drop the group's offsets (true|false)")
	_ = c.MarkFlagRequired("groupName")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		group := strings.TrimSpace(group)
		remove, err := javaBool("removeOffset", removeOffset)
		if err != nil {
			return err
		}
		if addr := strings.TrimSpace(t.addr); addr != "" {
			if err := a.DeleteSubscriptionGroup(ctx, addr, group, remove); err != nil {
				return fmt.Errorf("group %s on %s: %w", group, addr, err)
			}
			fmt.Fprintf(s.out, "delete subscription group [%s] from broker [%s] success.\n", group, addr)
			return nil
		}
		cluster := strings.TrimSpace(t.cluster)
		addrs, err := t.masters(ctx, a)
		if err != nil {
			return err
		}
		for _, addr := range addrs {
			if err := a.DeleteSubscriptionGroup(ctx, addr, group, remove); err != nil {
				return fmt.Errorf("group %s on %s: %w", group, addr, err)
			}
			fmt.Fprintf(s.out, "delete subscription group [%s] from broker [%s] in cluster [%s] success.\n", group, addr, cluster)
		}
		// As Java does, also drop the group's retry and dead-letter topics;
		// their failure does not undo the group's deletion.
		for _, topic := range []string{body.RetryTopic(group), body.DLQTopic(group)} {
			if err := deleteTopic(ctx, a, s.out, cluster, topic); err != nil {
				s.warnf("%v", err)
			}
		}
		return nil
	})
	return c
}

func consumerConnectionCmd(r *rootCommand) *cobra.Command {
	var group, addr string
	c := &cobra.Command{Use: "consumerConnection", Short: "List the consumers connected for a group and what they subscribe", Args: cobra.NoArgs}
	c.Flags().StringVarP(&group, "consumerGroup", "g", "", "the consumer group")
	c.Flags().StringVarP(&addr, "brokerAddr", "b", "", "ask this broker (default: the first master of the group's retry topic)")
	_ = c.MarkFlagRequired("consumerGroup")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		cc, err := a.ConsumerConnection(ctx, strings.TrimSpace(group), strings.TrimSpace(addr))
		if err != nil {
			return err
		}
		printConsumerConnection(s.out, cc)
		return nil
	})
	return c
}

func printConsumerConnection(w io.Writer, cc *body.ConsumerConnection) {
	conns := append([]body.Connection(nil), cc.ConnectionSet...)
	sort.Slice(conns, func(i, j int) bool {
		if conns[i].ClientID != conns[j].ClientID {
			return conns[i].ClientID < conns[j].ClientID
		}
		return conns[i].ClientAddr < conns[j].ClientAddr
	})
	fmt.Fprintf(w, "%-36s %-22s %-10s %s\n", "#ClientId", "#ClientAddr", "#Language", "#Version")
	for _, conn := range conns {
		fmt.Fprintf(w, "%-36s %-22s %-10s %s\n", conn.ClientID, conn.ClientAddr, conn.Language, versionDesc(conn.Version))
	}
	fmt.Fprintf(w, "\nBelow is subscription:\n")
	topics := make([]string, 0, len(cc.SubscriptionTable))
	for t := range cc.SubscriptionTable {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	fmt.Fprintf(w, "%-20s %s\n", "#Topic", "#SubExpression")
	for _, t := range topics {
		sd := cc.SubscriptionTable[t]
		fmt.Fprintf(w, "%-20s %s\n", sd.Topic, sd.SubString)
	}
	fmt.Fprintf(w, "\n")
	fmt.Fprintf(w, "ConsumeType: %s\n", cc.ConsumeType)
	fmt.Fprintf(w, "MessageModel: %s\n", cc.MessageModel)
	fmt.Fprintf(w, "ConsumeFromWhere: %s\n", cc.ConsumeFromWhere)
}

func consumerProgressCmd(r *rootCommand) *cobra.Command {
	var group, topic, showClientIP string
	c := &cobra.Command{Use: "consumerProgress", Short: "Print a group's offsets and lag per queue (every group without -g)", Args: cobra.NoArgs}
	c.Flags().StringVarP(&group, "groupName", "g", "", "the consumer group")
	c.Flags().StringVarP(&topic, "topicName", "t", "", "only this topic")
	c.Flags().StringVarP(&showClientIP, "showClientIP", "s", "false", "add the IP of the client holding each queue (true|false)")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		showIP, err := javaBool("showClientIP", showClientIP)
		if err != nil {
			return err
		}
		group := strings.TrimSpace(group)
		if group == "" {
			return printAllGroupsProgress(ctx, a, s)
		}
		cs, err := a.ConsumeStats(ctx, group, strings.TrimSpace(topic))
		if err != nil {
			return err
		}
		var owners map[body.MessageQueue]string
		if showIP {
			owners = queueOwners(ctx, a, s, group)
		}
		printGroupProgress(s.out, cs, owners)
		return nil
	})
	return c
}

// queueOwners maps each queue to the IP of the client holding it, asking
// every client of the group through the broker (GET_CONSUMER_RUNNING_INFO).
// Failures leave queues unmapped (printed N/A), as in Java.
func queueOwners(ctx context.Context, a *admin.Admin, s streams, group string) map[body.MessageQueue]string {
	owners := map[body.MessageQueue]string{}
	route, err := a.Route(ctx, body.RetryTopic(group))
	if err != nil {
		s.warnf("client IPs: %v", err)
		return owners
	}
	_, addrs := admin.RouteMasters(route)
	if len(addrs) == 0 {
		return owners
	}
	cc, err := a.ConsumerConnection(ctx, group, addrs[0])
	if err != nil {
		s.warnf("client IPs: %v", err)
		return owners
	}
	for _, conn := range cc.ConnectionSet {
		mqs, err := a.ConsumerRunningQueues(ctx, addrs[0], group, conn.ClientID)
		if err != nil {
			s.warnf("client IPs: running info of %s: %v", conn.ClientID, err)
			continue
		}
		ip, _, _ := strings.Cut(conn.ClientID, "@")
		for _, mq := range mqs {
			owners[mq] = ip
		}
	}
	return owners
}

// printGroupProgress prints consumerProgress -g: one line per queue, then
// the TPS and the total lag. owners non-nil adds the #Client IP column.
func printGroupProgress(w io.Writer, cs body.ConsumeStats, owners map[body.MessageQueue]string) {
	if owners != nil {
		fmt.Fprintf(w, "%-64s  %-32s  %-4s  %-20s  %-20s  %-20s %-20s  %s\n",
			"#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Client IP", "#Diff", "#LastTime")
	} else {
		fmt.Fprintf(w, "%-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s\n",
			"#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime")
	}
	for _, mq := range slices.SortedFunc(maps.Keys(cs.OffsetTable), body.CompareQueues) {
		ow := cs.OffsetTable[mq]
		diff := ow.BrokerOffset - ow.ConsumerOffset
		lastTime := "N/A"
		if ow.LastTimestamp != 0 {
			lastTime = dateTime(ow.LastTimestamp)
		}
		if owners != nil {
			ip := owners[mq]
			if ip == "" {
				ip = "N/A"
			}
			fmt.Fprintf(w, "%-64s  %-32s  %-4d  %-20d  %-20d  %-20s %-20d  %s\n", frontString(mq.Topic, 64),
				frontString(mq.BrokerName, 32), mq.QueueID, ow.BrokerOffset, ow.ConsumerOffset, ip, diff, lastTime)
		} else {
			fmt.Fprintf(w, "%-64s  %-32s  %-4d  %-20d  %-20d  %-20d  %s\n", frontString(mq.Topic, 64),
				frontString(mq.BrokerName, 32), mq.QueueID, ow.BrokerOffset, ow.ConsumerOffset, diff, lastTime)
		}
	}
	fmt.Fprintf(w, "\n")
	fmt.Fprintf(w, "Consume TPS: %.2f\n", cs.ConsumeTps)
	fmt.Fprintf(w, "Diff Total: %d\n", totalDiff(cs))
}

// totalDiff is ConsumeStats.computeTotalDiff: the sum of brokerOffset -
// consumerOffset over every queue.
func totalDiff(cs body.ConsumeStats) int64 {
	var diff int64
	for _, w := range cs.OffsetTable {
		diff += w.BrokerOffset - w.ConsumerOffset
	}
	return diff
}

// minVersion is ConsumerConnection.computeMinVersion: the lowest client
// version of the group (0 without connections).
func minVersion(conns []body.Connection) int32 {
	var v int32
	for i, conn := range conns {
		if i == 0 || conn.Version < v {
			v = conn.Version
		}
	}
	return v
}

// groupSummary is one line of consumerProgress without -g.
type groupSummary struct {
	group     string
	count     int
	version   int32
	pull      bool
	model     string
	tps       int
	diffTotal int64
}

// printAllGroupsProgress lists every group that has a retry topic, with
// its online clients and total lag. A group whose stats or connections
// cannot be read is still listed (OFFLINE or lag 0), as in Java.
func printAllGroupsProgress(ctx context.Context, a *admin.Admin, s streams) error {
	topics, err := a.TopicList(ctx)
	if err != nil {
		return err
	}
	var rows []groupSummary
	for _, t := range topics {
		if !strings.HasPrefix(t, body.RetryGroupPrefix) {
			continue
		}
		g := groupSummary{group: strings.TrimPrefix(t, body.RetryGroupPrefix)}
		if cs, err := a.ConsumeStats(ctx, g.group, ""); err == nil {
			g.tps, g.diffTotal = int(cs.ConsumeTps), totalDiff(cs)
		} else if !admin.IsCode(err, remoting.RespConsumerNotOnline) {
			s.warnf("%v", err)
		}
		if cc, err := a.ConsumerConnection(ctx, g.group, ""); err == nil {
			g.count, g.version = len(cc.ConnectionSet), minVersion(cc.ConnectionSet)
			g.pull, g.model = cc.ConsumeType == "CONSUME_ACTIVELY", cc.MessageModel
		} else if !admin.IsCode(err, remoting.RespConsumerNotOnline) {
			s.warnf("%v", err)
		}
		rows = append(rows, g)
	}
	printGroupSummaries(s.out, rows)
	return nil
}

func printGroupSummaries(w io.Writer, rows []groupSummary) {
	fmt.Fprintf(w, "%-64s  %-6s  %-24s %-5s  %-14s  %-7s  %s\n",
		"#Group", "#Count", "#Version", "#Type", "#Model", "#TPS", "#Diff Total")
	for _, g := range rows {
		version, typ, model := "OFFLINE", "", ""
		if g.count > 0 {
			version, typ = versionDesc(g.version), "PUSH"
			if g.pull {
				typ = "PULL"
			} else {
				model = g.model
			}
		}
		fmt.Fprintf(w, "%-64s  %-6d  %-24s %-5s  %-14s  %-7d  %d\n",
			frontString(g.group, 64), g.count, version, typ, model, g.tps, g.diffTotal)
	}
}

func resetOffsetByTimeCmd(r *rootCommand) *cobra.Command {
	var (
		group, topic, timestamp, force string
		cplus                          bool
	)
	c := &cobra.Command{Use: "resetOffsetByTime", Short: "Move a group's offsets on a topic to a point in time", Args: cobra.NoArgs}
	c.Flags().StringVarP(&group, "group", "g", "", "the consumer group")
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().StringVarP(&timestamp, "timestamp", "s", "", "now, milliseconds since the epoch, or yyyy-MM-dd#HH:mm:ss:SSS")
	c.Flags().StringVarP(&force, "force", "f", "true", "also move offsets forward, not only back (true|false)")
	c.Flags().BoolVarP(&cplus, "cplus", "c", false, "the consumers are C++ clients")
	for _, f := range []string{"group", "topic", "timestamp"} {
		_ = c.MarkFlagRequired(f)
	}
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		group, topic, tsText := strings.TrimSpace(group), strings.TrimSpace(topic), strings.TrimSpace(timestamp)
		ts := int64(-1) // "now": the end of every queue
		if tsText != "now" {
			var err error
			if ts, err = parseTimestamp(tsText); err != nil {
				return usageErrorf("--timestamp: %v", err)
			}
		}
		isForce, err := javaBool("force", force)
		if err != nil {
			return err
		}
		table, err := a.ResetOffset(ctx, topic, group, ts, isForce, cplus)
		if admin.IsCode(err, remoting.RespConsumerNotOnline) {
			// Nobody to push the reset to: commit the offsets directly.
			stats, err := a.ResetOffsetOffline(ctx, topic, group, ts, isForce)
			if err != nil {
				return err
			}
			printRollbackStats(s.out, group, topic, isForce, tsText, ts, stats)
			return nil
		}
		if err != nil {
			return err
		}
		printResetOffsets(s.out, group, topic, isForce, tsText, ts, table)
		return nil
	})
	return c
}

func printResetOffsets(w io.Writer, group, topic string, force bool, tsText string, ts int64, table map[body.MessageQueue]int64) {
	fmt.Fprintf(w, "rollback consumer offset by specified group[%s], topic[%s], force[%t], timestamp(string)[%s], timestamp(long)[%d]\n",
		group, topic, force, tsText, ts)
	fmt.Fprintf(w, "%-40s  %-40s  %-40s\n", "#brokerName", "#queueId", "#offset")
	for _, mq := range slices.SortedFunc(maps.Keys(table), body.CompareQueues) {
		fmt.Fprintf(w, "%-40s  %-40d  %-40d\n", frontString(mq.BrokerName, 32), mq.QueueID, table[mq])
	}
}

func printRollbackStats(w io.Writer, group, topic string, force bool, tsText string, ts int64, stats []admin.RollbackStats) {
	fmt.Fprintf(w, "rollback consumer offset by specified consumerGroup[%s], topic[%s], force[%t], timestamp(string)[%s], timestamp(long)[%d]\n",
		group, topic, force, tsText, ts)
	fmt.Fprintf(w, "%-20s  %-20s  %-20s  %-20s  %-20s  %-20s\n",
		"#brokerName", "#queueId", "#brokerOffset", "#consumerOffset", "#timestampOffset", "#rollbackOffset")
	for _, st := range stats {
		fmt.Fprintf(w, "%-20s  %-20d  %-20d  %-20d  %-20d  %-20d\n", frontString(st.Queue.BrokerName, 32),
			st.Queue.QueueID, st.BrokerOffset, st.ConsumerOffset, st.TimestampOffset, st.RollbackOffset)
	}
}
