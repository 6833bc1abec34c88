package admin

import (
	"fmt"
	"math"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/actormq/actormq/actors/admin/gchist"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// brokerVersionDesc names remoting.Version (MQVersion ordinal 401).
const brokerVersionDesc = "V4_9_4"

// runtimeInfo is GET_BROKER_RUNTIME_INFO (28): a KVTable of string values
// under Java's keys. Only figures this broker really has are reported:
// Java's pull, query and end-transaction thread-pool keys are absent (no
// such pools here), sendThreadPoolQueue* is the send path's in-flight count
// and bound, dispatchBehindBytes is 0 because the writer dispatches every
// append before it answers, pageCacheLockTimeMills is 0 because appends take
// no lock.
func (x *adminActor) runtimeInfo(cmd *remoting.Command) *remoting.Command {
	a := x.a
	now := time.Now()
	cfg := a.Config()
	clog := a.cfg.Store.CommitLog
	puts, gets := x.stats.tps(now)
	minOff, wrote, flushed := clog.MinOffset(), clog.WrotePosition(), clog.FlushedPosition()
	t := map[string]string{
		"brokerVersionDesc":                    brokerVersionDesc,
		"brokerVersion":                        strconv.Itoa(int(remoting.Version)),
		"brokerActive":                         strconv.FormatBool(cfg.BrokerRole != config.RoleSlave),
		"bootTimestamp":                        strconv.FormatInt(x.stats.boot.UnixMilli(), 10),
		"runtime":                              formatRuntime(now.Sub(x.stats.boot)),
		"msgPutTotalYesterdayMorning":          strconv.FormatInt(x.stats.yesterdayMorning[0], 10),
		"msgPutTotalTodayMorning":              strconv.FormatInt(x.stats.todayMorning[0], 10),
		"msgPutTotalTodayNow":                  strconv.FormatInt(a.cfg.Counters.Puts(), 10),
		"msgGetTotalYesterdayMorning":          strconv.FormatInt(x.stats.yesterdayMorning[1], 10),
		"msgGetTotalTodayMorning":              strconv.FormatInt(x.stats.todayMorning[1], 10),
		"msgGetTotalTodayNow":                  strconv.FormatInt(a.cfg.Counters.Gets(), 10),
		"putTps":                               formatTps(puts),
		"getTransferredTps":                    formatTps(gets),
		"getTransferedTps":                     formatTps(gets), // 4.x tools read this spelling
		"sendThreadPoolQueueSize":              strconv.FormatInt(a.cfg.Sends.Inflight(), 10),
		"sendThreadPoolQueueCapacity":          strconv.FormatInt(a.cfg.Sends.InflightMax(), 10),
		"sendThreadPoolQueueHeadWaitTimeMills": "0",
		"dispatchBehindBytes":                  "0",
		"pageCacheLockTimeMills":               "0",
		"commitLogMinOffset":                   strconv.FormatInt(minOff, 10),
		"commitLogMaxOffset":                   strconv.FormatInt(wrote, 10),
		"remainHowManyDataToFlush":             humanBytes(max(wrote-flushed, 0)),
		"earliestMessageTimeStamp":             strconv.FormatInt(x.earliestMessageTime(minOff, wrote), 10),
	}
	addGoRuntime(t)
	if used, total, err := a.cfg.FS.DiskUsage(cfg.StorePathCommitLog); err == nil && total > 0 {
		t["commitLogDiskRatio"] = string(body.AppendJavaDouble(nil, float64(used)/float64(total)))
		t["commitLogDirCapacity"] = fmt.Sprintf("Total : %s, Free : %s.", humanBytes(int64(total)), humanBytes(int64(total-used)))
	}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = body.EncodeJSON(body.KVTable{Table: t})
	return resp
}

// earliestMessageTime is the store time of the first record of the commit
// log, -1 when it is empty or unreadable (Java's getEarliestMessageTime).
func (x *adminActor) earliestMessageTime(minOff, wrote int64) int64 {
	if minOff >= wrote {
		return -1
	}
	m, err := x.a.cfg.Store.CommitLog.ReadMessage(minOff)
	if err != nil {
		return -1
	}
	return m.StoreTimestamp
}

// formatTps writes three rates as Java's "a b c".
func formatTps(v [3]float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = string(body.AppendJavaDouble(nil, f))
	}
	return strings.Join(parts, " ")
}

// formatRuntime is Java's "[ d days, h hours, m minutes, s seconds ]".
func formatRuntime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("[ %d days, %d hours, %d minutes, %d seconds ]", s/86400, s%86400/3600, s%3600/60, s%60)
}

// humanBytes is Java's MixAll.humanReadableByteCount(bytes, false):
// "512 B", "1.5 KiB", "98.3 GiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	exp := int(math.Log(float64(n)) / math.Log(unit))
	exp = min(exp, 6)
	return fmt.Sprintf("%.1f %ciB", float64(n)/math.Pow(unit, float64(exp)), "KMGTPE"[exp-1])
}

// Go runtime figures for load tests (bin/mqbench reads them before and
// after a run); not Java keys, which the Java admin tool ignores.
// runtime/metrics reads them without stopping the world.
var goRuntimeSamples = []string{
	"/memory/classes/heap/objects:bytes", // goHeapAlloc: live and not yet swept heap objects
	"/sched/pauses/total/gc:seconds",     // goGCPauseP99Us, goGCPauses: stop-the-world GC pauses since start
	"/gc/cycles/total:gc-cycles",         // goGCCount
}

// addGoRuntime adds goHeapAlloc (bytes), goGCPauseP99Us (the bucket upper
// bound at the 99th percentile of every GC pause since start, µs),
// goGCPauses (that histogram in gchist's form, for a difference over a
// run) and goGCCount (completed GC cycles since start) to t.
func addGoRuntime(t map[string]string) {
	s := make([]metrics.Sample, len(goRuntimeSamples))
	for i, name := range goRuntimeSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		t["goHeapAlloc"] = strconv.FormatUint(s[0].Value.Uint64(), 10)
	}
	if s[1].Value.Kind() == metrics.KindFloat64Histogram {
		h := gchist.FromMetrics(s[1].Value.Float64Histogram())
		t["goGCPauseP99Us"] = strconv.FormatInt(gchist.Micros(h.Quantile(0.99)), 10)
		t["goGCPauses"] = h.String()
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		t["goGCCount"] = strconv.FormatUint(s[2].Value.Uint64(), 10)
	}
}
