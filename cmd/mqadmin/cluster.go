package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/actormq/actormq/cmd/mqadmin/internal/admin"
	"github.com/actormq/actormq/wire/body"
)

// brokerRow is one broker address of a cluster listing.
type brokerRow struct {
	cluster, brokerName string
	id                  int64
	addr                string
}

// clusterRows lists every broker address of the clusters (all when cluster
// is ""), clusters and broker names sorted, ids ascending.
func clusterRows(ci *body.ClusterInfo, cluster string) ([]brokerRow, error) {
	clusters := []string{cluster}
	if cluster == "" {
		clusters = clusters[:0]
		for c := range ci.ClusterAddrTable {
			clusters = append(clusters, c)
		}
		sort.Strings(clusters)
	}
	var rows []brokerRow
	for _, c := range clusters {
		names, err := admin.ClusterBrokers(ci, c)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			bd, ok := ci.BrokerAddrTable[name]
			if !ok {
				continue
			}
			for _, id := range admin.BrokerIDs(bd) {
				rows = append(rows, brokerRow{cluster: c, brokerName: name, id: id, addr: bd.BrokerAddrs[id]})
			}
		}
	}
	return rows, nil
}

func clusterListCmd(r *rootCommand) *cobra.Command {
	var (
		more     bool
		interval int
		cluster  string
	)
	c := &cobra.Command{
		Use:   "clusterList",
		Short: "List every broker of the clusters with its load",
		Args:  cobra.NoArgs,
	}
	c.Flags().BoolVarP(&more, "moreStats", "m", false, "print message counts of yesterday and today instead")
	c.Flags().IntVarP(&interval, "interval", "i", 0, "repeat every this many seconds until interrupted")
	c.Flags().StringVarP(&cluster, "clusterName", "c", "", "only this cluster")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		for round := 0; ; round++ {
			if round > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(time.Duration(interval) * time.Second):
				}
			}
			ci, err := a.ClusterInfo(ctx)
			if err != nil {
				return err
			}
			rows, err := clusterRows(ci, strings.TrimSpace(cluster))
			if err != nil {
				return err
			}
			stats := make([]map[string]string, len(rows))
			for i, row := range rows {
				if stats[i], err = a.RuntimeInfo(ctx, row.addr); err != nil {
					s.warnf("runtime info of %s: %v", row.addr, err)
				}
			}
			if more {
				printClusterMoreStats(s.out, rows, stats)
			} else {
				printClusterBaseInfo(s.out, rows, stats, time.Now())
			}
			if interval <= 0 {
				return nil
			}
		}
	})
	return c
}

const clusterBaseFormat = "%-16s  %-22s  %-4s  %-22s %-16s %19s %19s %10s %5s %6s\n"

// printClusterBaseInfo prints clusterList's table (RocketMQ 4.9 columns).
// stats[i] is row i's runtime info, nil when it could not be read.
func printClusterBaseInfo(w io.Writer, rows []brokerRow, stats []map[string]string, now time.Time) {
	fmt.Fprintf(w, clusterBaseFormat, "#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version",
		"#InTPS(LOAD)", "#OutTPS(LOAD)", "#PCWait(ms)", "#Hour", "#SPACE")
	for i, row := range rows {
		kv := stats[i]
		out := kv["getTransferedTps"] // RocketMQ 4.x spelling
		if out == "" {
			out = kv["getTransferredTps"]
		}
		hour := 0.0
		if ts, err := strconv.ParseInt(kv["earliestMessageTimeStamp"], 10, 64); err == nil && ts > 0 {
			hour = float64(now.UnixMilli()-ts) / 1000 / 60 / 60
		}
		space, _ := strconv.ParseFloat(kv["commitLogDiskRatio"], 64)
		fmt.Fprintf(w, clusterBaseFormat, row.cluster, row.brokerName, strconv.FormatInt(row.id, 10), row.addr,
			kv["brokerVersionDesc"],
			fmt.Sprintf("%9.2f(%s,%sms)", firstNumber(kv["putTps"]), kv["sendThreadPoolQueueSize"], kv["sendThreadPoolQueueHeadWaitTimeMills"]),
			fmt.Sprintf("%9.2f(%s,%sms)", firstNumber(out), kv["pullThreadPoolQueueSize"], kv["pullThreadPoolQueueHeadWaitTimeMills"]),
			kv["pageCacheLockTimeMills"], fmt.Sprintf("%2.2f", hour), fmt.Sprintf("%.4f", space))
	}
}

// firstNumber reads the first space-separated number of a TPS string
// ("12.5 11.0 10.2" = 10 s, 1 min, 10 min), 0 when absent.
func firstNumber(s string) float64 {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return v
}

const clusterMoreFormat = "%-16s  %-32s %14s %14s %14s %14s\n"

// printClusterMoreStats prints clusterList -m: messages in and out
// yesterday and today, from the broker's daily counters.
func printClusterMoreStats(w io.Writer, rows []brokerRow, stats []map[string]string) {
	fmt.Fprintf(w, clusterMoreFormat, "#Cluster Name", "#Broker Name", "#InTotalYest", "#OutTotalYest", "#InTotalToday", "#OutTotalToday")
	for i, row := range rows {
		n := func(key string) int64 { v, _ := strconv.ParseInt(stats[i][key], 10, 64); return v }
		var inYest, outYest, inToday, outToday int64
		if stats[i] != nil {
			inYest = n("msgPutTotalTodayMorning") - n("msgPutTotalYesterdayMorning")
			outYest = n("msgGetTotalTodayMorning") - n("msgGetTotalYesterdayMorning")
			inToday = n("msgPutTotalTodayNow") - n("msgPutTotalTodayMorning")
			outToday = n("msgGetTotalTodayNow") - n("msgGetTotalTodayMorning")
		}
		fmt.Fprintf(w, "%-16s  %-32s %14d %14d %14d %14d\n", row.cluster, row.brokerName, inYest, outYest, inToday, outToday)
	}
}

// brokerTarget is the -b / -c pair of the broker commands.
type brokerTarget struct{ addr, cluster string }

func (t *brokerTarget) flags(c *cobra.Command, addrUsage, clusterUsage string) {
	c.Flags().StringVarP(&t.addr, "brokerAddr", "b", "", addrUsage)
	c.Flags().StringVarP(&t.cluster, "clusterName", "c", "", clusterUsage)
	c.MarkFlagsOneRequired("brokerAddr", "clusterName")
	c.MarkFlagsMutuallyExclusive("brokerAddr", "clusterName")
}

// masters resolves the target to master addresses: -b itself, or every
// master of the -c cluster.
func (t *brokerTarget) masters(ctx context.Context, a *admin.Admin) ([]string, error) {
	if addr := strings.TrimSpace(t.addr); addr != "" {
		return []string{addr}, nil
	}
	return clusterMasters(ctx, a, strings.TrimSpace(t.cluster))
}

// clusterMasters asks the NameServer for the master addresses of a cluster.
func clusterMasters(ctx context.Context, a *admin.Admin, cluster string) ([]string, error) {
	ci, err := a.ClusterInfo(ctx)
	if err != nil {
		return nil, err
	}
	return admin.ClusterMasters(ci, cluster)
}

func brokerStatusCmd(r *rootCommand) *cobra.Command {
	var t brokerTarget
	c := &cobra.Command{Use: "brokerStatus", Short: "Print a broker's runtime statistics", Args: cobra.NoArgs}
	t.flags(c, "the broker's address", "every broker of this cluster")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		if addr := strings.TrimSpace(t.addr); addr != "" {
			kv, err := a.RuntimeInfo(ctx, addr)
			if err != nil {
				return err
			}
			printRuntimeStats(s.out, "", kv)
			return nil
		}
		ci, err := a.ClusterInfo(ctx)
		if err != nil {
			return err
		}
		rows, err := clusterRows(ci, strings.TrimSpace(t.cluster))
		if err != nil {
			return err
		}
		for _, row := range rows {
			kv, err := a.RuntimeInfo(ctx, row.addr)
			if err != nil {
				s.warnf("runtime info of %s: %v", row.addr, err)
				continue
			}
			printRuntimeStats(s.out, row.addr, kv)
		}
		return nil
	})
	return c
}

// printRuntimeStats prints a runtime KVTable sorted by key, each line
// prefixed by the broker address when addr is set (brokerStatus -c).
func printRuntimeStats(w io.Writer, addr string, kv map[string]string) {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if addr != "" {
			fmt.Fprintf(w, "%-24s %-32s: %s\n", addr, k, kv[k])
		} else {
			fmt.Fprintf(w, "%-32s: %s\n", k, kv[k])
		}
	}
}

func getBrokerConfigCmd(r *rootCommand) *cobra.Command {
	var t brokerTarget
	c := &cobra.Command{Use: "getBrokerConfig", Short: "Print the configuration of a broker, or of every broker of a cluster", Args: cobra.NoArgs}
	t.flags(c, "the broker's address", "every broker of this cluster")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		if addr := strings.TrimSpace(t.addr); addr != "" {
			return printBrokerConfig(ctx, a, s.out, fmt.Sprintf("============%s============\n", addr), addr)
		}
		ci, err := a.ClusterInfo(ctx)
		if err != nil {
			return err
		}
		names, err := admin.ClusterBrokers(ci, strings.TrimSpace(t.cluster))
		if err != nil {
			return err
		}
		for _, name := range names {
			bd := ci.BrokerAddrTable[name]
			master := admin.MasterAddr(bd)
			if master == "" {
				continue
			}
			if err := printBrokerConfig(ctx, a, s.out, fmt.Sprintf("============Master: %s============\n", master), master); err != nil {
				return err
			}
			for _, id := range admin.BrokerIDs(bd) {
				if id == admin.MasterID {
					continue
				}
				slave := bd.BrokerAddrs[id]
				header := fmt.Sprintf("============My Master: %s=====Slave: %s============\n", master, slave)
				if err := printBrokerConfig(ctx, a, s.out, header, slave); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return c
}

func printBrokerConfig(ctx context.Context, a *admin.Admin, w io.Writer, header, addr string) error {
	props, err := a.BrokerConfig(ctx, addr)
	if err != nil {
		return fmt.Errorf("config of %s: %w", addr, err)
	}
	fmt.Fprint(w, header)
	if len(props) == 0 {
		fmt.Fprintf(w, "Broker[%s] has no config property!\n", addr)
		return nil
	}
	for _, p := range props {
		fmt.Fprintf(w, "%-50s=  %s\n", p.Key, p.Value)
	}
	fmt.Fprintln(w)
	return nil
}

func updateBrokerConfigCmd(r *rootCommand) *cobra.Command {
	var (
		t          brokerTarget
		key, value string
	)
	c := &cobra.Command{Use: "updateBrokerConfig", Short: "Change one configuration key of a broker, or of every master of a cluster", Args: cobra.NoArgs}
	t.flags(c, "the broker's address", "every master of this cluster")
	c.Flags().StringVarP(&key, "key", "k", "", "configuration key")
	c.Flags().StringVarP(&value, "value", "v", "", "new value")
	_ = c.MarkFlagRequired("key")
	_ = c.MarkFlagRequired("value")
	c.RunE = r.runE(func(ctx context.Context, a *admin.Admin, s streams) error {
		addrs, err := t.masters(ctx, a)
		if err != nil {
			return err
		}
		for _, addr := range addrs {
			if err := a.UpdateBrokerConfig(ctx, addr, strings.TrimSpace(key), strings.TrimSpace(value)); err != nil {
				return fmt.Errorf("broker %s: %w", addr, err)
			}
			fmt.Fprintf(s.out, "update broker config success, %s\n", addr)
		}
		return nil
	})
	return c
}
