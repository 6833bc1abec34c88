package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actormq/actormq/cmd/mqadmin/internal/admin"
	"github.com/actormq/actormq/wire/body"
)

// orderTopicNamespace is the NameServer KV namespace of order topic
// configs ("brokerA:4;brokerB:4").
const orderTopicNamespace = "ORDER_TOPIC_CONFIG"

func topicListCmd(r *rootCommand) *cobra.Command {
	var clusterModel bool
	c := &cobra.Command{Use: "topicList", Short: "List the topics the name servers know", Args: cobra.NoArgs}
	c.Flags().BoolVarP(&clusterModel, "clusterModel", "c", false, "with each topic's cluster and consumer groups")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		topics, err := a.TopicList(ctx)
		if err != nil {
			return err
		}
		if !clusterModel {
			for _, t := range topics {
				fmt.Fprintf(s.out, "%s\n", t)
			}
			return nil
		}
		ci, err := a.ClusterInfo(ctx)
		if err != nil {
			return err
		}
		return printTopicClusters(ctx, a, s, ci, topics)
	})
	return c
}

const topicClusterFormat = "%-20s  %-64s  %-64s\n"

// printTopicClusters prints topicList -c: each topic (retry and DLQ topics
// skipped) with its cluster and the groups consuming it. As in Java, a
// topic whose route or groups cannot be read is listed with blanks; the
// first such failure is reported as a warning.
func printTopicClusters(ctx context.Context, a *admin.Admin, s streams, ci *body.ClusterInfo, topics []string) error {
	fmt.Fprintf(s.out, topicClusterFormat, "#Cluster Name", "#Topic", "#Consumer Group")
	warned := false
	warn := func(topic string, err error) {
		if !warned {
			s.warnf("topic %s: %v", topic, err)
			warned = true
		}
	}
	for _, topic := range topics {
		if strings.HasPrefix(topic, body.RetryGroupPrefix) || strings.HasPrefix(topic, body.DLQGroupPrefix) {
			continue
		}
		cluster, groups := "", []string(nil)
		route, err := a.Route(ctx, topic)
		if err == nil {
			names, addrs := admin.RouteMasters(route)
			if len(addrs) > 0 {
				cluster = clusterOfBroker(ci, names[0])
				groups, err = a.TopicConsumeGroups(ctx, addrs[0], topic)
			}
		}
		if err != nil {
			warn(topic, err)
		}
		if len(groups) == 0 {
			groups = []string{""}
		}
		for _, g := range groups {
			fmt.Fprintf(s.out, topicClusterFormat, frontString(cluster, 20), frontString(topic, 64), frontString(g, 64))
		}
	}
	return nil
}

func clusterOfBroker(ci *body.ClusterInfo, brokerName string) string {
	clusters := make([]string, 0, len(ci.ClusterAddrTable))
	for c := range ci.ClusterAddrTable {
		clusters = append(clusters, c)
	}
	sort.Strings(clusters)
	for _, c := range clusters {
		for _, name := range ci.ClusterAddrTable[c] {
			if name == brokerName {
				return c
			}
		}
	}
	return ""
}

func topicRouteCmd(r *rootCommand) *cobra.Command {
	var (
		topic    string
		listForm bool
	)
	c := &cobra.Command{Use: "topicRoute", Short: "Print a topic's brokers and queue counts", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().BoolVarP(&listForm, "list", "l", false, "print a table instead of JSON")
	_ = c.MarkFlagRequired("topic")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		route, err := a.Route(ctx, strings.TrimSpace(topic))
		if err != nil {
			return err
		}
		if listForm {
			printRouteList(s.out, route)
			return nil
		}
		return printRouteJSON(s.out, route)
	})
	return c
}

// printRouteJSON prints the route as indented JSON with sorted keys, the
// shape of Java's TopicRouteData.toJson(true).
func printRouteJSON(w io.Writer, r *body.TopicRouteData) error {
	type brokerData struct {
		BrokerAddrs map[string]string `json:"brokerAddrs"`
		BrokerName  string            `json:"brokerName"`
		Cluster     string            `json:"cluster"`
	}
	type queueData struct {
		BrokerName     string `json:"brokerName"`
		Perm           int32  `json:"perm"`
		ReadQueueNums  int32  `json:"readQueueNums"`
		TopicSysFlag   int32  `json:"topicSysFlag"`
		WriteQueueNums int32  `json:"writeQueueNums"`
	}
	type route struct {
		BrokerDatas       []brokerData        `json:"brokerDatas"`
		FilterServerTable map[string][]string `json:"filterServerTable"`
		OrderTopicConf    string              `json:"orderTopicConf,omitempty"`
		QueueDatas        []queueData         `json:"queueDatas"`
	}
	out := route{BrokerDatas: []brokerData{}, FilterServerTable: r.FilterServerTable, OrderTopicConf: r.OrderTopicConf, QueueDatas: []queueData{}}
	if out.FilterServerTable == nil {
		out.FilterServerTable = map[string][]string{}
	}
	for _, bd := range sortedBrokerDatas(r) {
		addrs := map[string]string{}
		for id, addr := range bd.BrokerAddrs {
			addrs[strconv.FormatInt(id, 10)] = addr
		}
		out.BrokerDatas = append(out.BrokerDatas, brokerData{BrokerAddrs: addrs, BrokerName: bd.BrokerName, Cluster: bd.Cluster})
	}
	for _, qd := range sortedQueueDatas(r) {
		out.QueueDatas = append(out.QueueDatas, queueData{BrokerName: qd.BrokerName, Perm: qd.Perm,
			ReadQueueNums: qd.ReadQueueNums, TopicSysFlag: qd.TopicSysFlag, WriteQueueNums: qd.WriteQueueNums})
	}
	b, err := json.MarshalIndent(out, "", "\t")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func sortedBrokerDatas(r *body.TopicRouteData) []body.BrokerData {
	out := append([]body.BrokerData(nil), r.BrokerDatas...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].BrokerName < out[j].BrokerName })
	return out
}

func sortedQueueDatas(r *body.TopicRouteData) []body.QueueData {
	out := append([]body.QueueData(nil), r.QueueDatas...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].BrokerName < out[j].BrokerName })
	return out
}

const routeListFormat = "%-45s %-32s %-50s %-10s %-11s %-5s\n"

// printRouteList prints topicRoute -l: one line per broker name with its
// addresses and queue counts, then the totals.
func printRouteList(w io.Writer, r *body.TopicRouteData) {
	queues := map[string]body.QueueData{}
	for _, qd := range r.QueueDatas {
		queues[qd.BrokerName] = qd
	}
	fmt.Fprintf(w, routeListFormat, "#ClusterName", "#BrokerName", "#BrokerAddrs", "#ReadQueue", "#WriteQueue", "#Perm")
	var totalRead, totalWrite int32
	for _, bd := range sortedBrokerDatas(r) {
		qd := queues[bd.BrokerName]
		totalRead += qd.ReadQueueNums
		totalWrite += qd.WriteQueueNums
		fmt.Fprintf(w, routeListFormat, bd.Cluster, bd.BrokerName, brokerAddrsString(bd),
			strconv.Itoa(int(qd.ReadQueueNums)), strconv.Itoa(int(qd.WriteQueueNums)), strconv.Itoa(int(qd.Perm)))
	}
	fmt.Fprintln(w, strings.Repeat("-", 158))
	fmt.Fprintf(w, routeListFormat, "Total:", strconv.Itoa(len(queues)), "", strconv.Itoa(int(totalRead)), strconv.Itoa(int(totalWrite)), "")
}

// brokerAddrsString renders broker addresses as Java's HashMap<Long,String>
// toString: {0=ip:port, 1=ip:port}.
func brokerAddrsString(bd body.BrokerData) string {
	parts := make([]string, 0, len(bd.BrokerAddrs))
	for _, id := range admin.BrokerIDs(bd) {
		parts = append(parts, fmt.Sprintf("%d=%s", id, bd.BrokerAddrs[id]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func topicStatusCmd(r *rootCommand) *cobra.Command {
	var topic string
	c := &cobra.Command{Use: "topicStatus", Short: "Print the offset range of each queue of a topic", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	_ = c.MarkFlagRequired("topic")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		topic := strings.TrimSpace(topic)
		stats, err := a.TopicStats(ctx, topic)
		if err != nil {
			return err
		}
		if len(stats) == 0 {
			return fmt.Errorf("topic %s: no topic stats info", topic)
		}
		printTopicStatus(s.out, stats)
		return nil
	})
	return c
}

const topicStatusFormat = "%-32s  %-4s  %-20s  %-20s    %s\n"

func printTopicStatus(w io.Writer, stats map[body.MessageQueue]body.TopicOffset) {
	fmt.Fprintf(w, topicStatusFormat, "#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated")
	for _, mq := range slices.SortedFunc(maps.Keys(stats), body.CompareQueues) {
		off := stats[mq]
		updated := ""
		if off.LastUpdateTimestamp > 0 {
			updated = humanTime2(off.LastUpdateTimestamp)
		}
		fmt.Fprintf(w, "%-32s  %-4d  %-20d  %-20d    %s\n", frontString(mq.BrokerName, 32), mq.QueueID, off.MinOffset, off.MaxOffset, updated)
	}
}

// topicConfigString is TopicConfig.toString.
func topicConfigString(tc body.TopicConfig) string {
	return fmt.Sprintf("TopicConfig [topicName=%s, readQueueNums=%d, writeQueueNums=%d, perm=%s, topicFilterType=%s, topicSysFlag=%d, order=%t]",
		tc.TopicName, tc.ReadQueueNums, tc.WriteQueueNums, permString(tc.Perm), tc.TopicFilterType, tc.TopicSysFlag, tc.Order)
}

func updateTopicCmd(r *rootCommand) *cobra.Command {
	var (
		t                       brokerTarget
		topic                   string
		readQueues, writeQueues int32
		perm                    int32
		order, unit, hasUnitSub string
	)
	c := &cobra.Command{Use: "updateTopic", Short: "Create a topic or change its queues and permission", Args: cobra.NoArgs}
	t.flags(c, "on the broker at this address", "on every master of this cluster")
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().Int32VarP(&readQueues, "readQueueNums", "r", 8, "read queues")
	c.Flags().Int32VarP(&writeQueues, "writeQueueNums", "w", 8, "write queues")
	c.Flags().Int32VarP(&perm, "perm", "p", body.PermRead|body.PermWrite, "permission: 2 write, 4 read, 6 both")
	c.Flags().StringVarP(&order, "order", "o", "false", "an ordered topic (true|false)")
	c.Flags().StringVarP(&unit, "unit", "u", "false", "a unit topic (true|false)")
	c.Flags().StringVarP(&hasUnitSub, "hasUnitSub", "s", "false", "with unit subscriptions (true|false)")
	_ = c.MarkFlagRequired("topic")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		isOrder, err := javaBool("order", order)
		if err != nil {
			return err
		}
		isUnit, err := javaBool("unit", unit)
		if err != nil {
			return err
		}
		isUnitSub, err := javaBool("hasUnitSub", hasUnitSub)
		if err != nil {
			return err
		}
		tc := body.TopicConfig{
			TopicName: strings.TrimSpace(topic), ReadQueueNums: readQueues, WriteQueueNums: writeQueues,
			Perm: perm, TopicFilterType: "SINGLE_TAG", Order: isOrder,
		}
		if isUnit {
			tc.TopicSysFlag |= 1
		}
		if isUnitSub {
			tc.TopicSysFlag |= 2
		}
		if addr := strings.TrimSpace(t.addr); addr != "" {
			return updateTopicOnBroker(ctx, a, s.out, addr, tc)
		}
		return updateTopicOnCluster(ctx, a, s.out, strings.TrimSpace(t.cluster), tc)
	})
	return c
}

func updateTopicOnBroker(ctx context.Context, a *admin.Admin, w io.Writer, addr string, tc body.TopicConfig) error {
	if err := a.CreateTopic(ctx, addr, tc); err != nil {
		return fmt.Errorf("topic %s on %s: %w", tc.TopicName, addr, err)
	}
	if tc.Order {
		ci, err := a.ClusterInfo(ctx)
		if err != nil {
			return err
		}
		brokerName, ok := admin.BrokerNameByAddr(ci, addr)
		if !ok {
			return fmt.Errorf("broker %s is not registered with the name server", addr)
		}
		conf := fmt.Sprintf("%s:%d", brokerName, tc.WriteQueueNums)
		old, _, err := a.KVConfig(ctx, orderTopicNamespace, tc.TopicName)
		if err != nil {
			return err
		}
		if err := a.PutKVConfig(ctx, orderTopicNamespace, tc.TopicName, mergeOrderConf(old, conf)); err != nil {
			return err
		}
		fmt.Fprintf(w, "set broker orderConf. isOrder=%t, orderConf=[%s]\n", tc.Order, conf)
	}
	fmt.Fprintf(w, "create topic to %s success.\n", addr)
	fmt.Fprintf(w, "%s\n", topicConfigString(tc))
	return nil
}

// mergeOrderConf replaces the entry of conf's broker in an order config
// "brokerA:4;brokerB:8", keeping the others (sorted by broker name).
func mergeOrderConf(old, conf string) string {
	byBroker := map[string]string{}
	for _, item := range strings.Split(old, ";") {
		if item = strings.TrimSpace(item); item != "" {
			name, _, _ := strings.Cut(item, ":")
			byBroker[name] = item
		}
	}
	name, _, _ := strings.Cut(conf, ":")
	byBroker[name] = conf
	names := make([]string, 0, len(byBroker))
	for n := range byBroker {
		names = append(names, n)
	}
	sort.Strings(names)
	items := make([]string, len(names))
	for i, n := range names {
		items[i] = byBroker[n]
	}
	return strings.Join(items, ";")
}

func updateTopicOnCluster(ctx context.Context, a *admin.Admin, w io.Writer, cluster string, tc body.TopicConfig) error {
	ci, err := a.ClusterInfo(ctx)
	if err != nil {
		return err
	}
	masters, err := admin.ClusterMasters(ci, cluster)
	if err != nil {
		return err
	}
	for _, addr := range masters {
		if err := a.CreateTopic(ctx, addr, tc); err != nil {
			return fmt.Errorf("topic %s on %s: %w", tc.TopicName, addr, err)
		}
		fmt.Fprintf(w, "create topic to %s success.\n", addr)
	}
	if tc.Order {
		names, err := admin.ClusterBrokers(ci, cluster)
		if err != nil {
			return err
		}
		items := make([]string, len(names))
		for i, n := range names {
			items[i] = fmt.Sprintf("%s:%d", n, tc.WriteQueueNums)
		}
		conf := strings.Join(items, ";")
		if err := a.PutKVConfig(ctx, orderTopicNamespace, tc.TopicName, conf); err != nil {
			return err
		}
		fmt.Fprintf(w, "set cluster orderConf. isOrder=%t, orderConf=[%s]\n", tc.Order, conf)
	}
	fmt.Fprintf(w, "%s\n", topicConfigString(tc))
	return nil
}

func deleteTopicCmd(r *rootCommand) *cobra.Command {
	var topic, cluster string
	c := &cobra.Command{Use: "deleteTopic", Short: "Delete a topic from a cluster's brokers and the name servers", Args: cobra.NoArgs}
	c.Flags().StringVarP(&topic, "topic", "t", "", "the topic")
	c.Flags().StringVarP(&cluster, "clusterName", "c", "", "the cluster")
	_ = c.MarkFlagRequired("topic")
	_ = c.MarkFlagRequired("clusterName")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		return deleteTopic(ctx, a, s.out, strings.TrimSpace(cluster), strings.TrimSpace(topic))
	})
	return c
}

// deleteTopic removes a topic from every master of a cluster, then from
// every NameServer.
func deleteTopic(ctx context.Context, a *admin.Admin, w io.Writer, cluster, topic string) error {
	masters, err := clusterMasters(ctx, a, cluster)
	if err != nil {
		return err
	}
	for _, addr := range masters {
		if err := a.DeleteTopicInBroker(ctx, addr, topic); err != nil {
			return fmt.Errorf("topic %s on %s: %w", topic, addr, err)
		}
	}
	fmt.Fprintf(w, "delete topic [%s] from cluster [%s] success.\n", topic, cluster)
	if err := a.DeleteTopicInNamesrv(ctx, topic, cluster); err != nil {
		return fmt.Errorf("topic %s: %w", topic, err)
	}
	fmt.Fprintf(w, "delete topic [%s] from NameServer success.\n", topic)
	return nil
}
