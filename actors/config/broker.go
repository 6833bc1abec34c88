package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Java's limits and unit sizes that shape the broker defaults.
const (
	registerPeriodMin  = 10 * time.Second
	registerPeriodMax  = 60 * time.Second
	cqUnitBytes        = 20 // one ConsumeQueue unit; the CQ file size is a multiple of it
	defaultDelayLevels = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
)

// rawBroker is the broker config before anything is read: RocketMQ's
// defaults, with the derived fields (haListenPort, storePathCommitLog,
// brokerIP2) left zero so that Validate computes them from what was read.
func rawBroker() Broker {
	return Broker{
		BrokerClusterName:           "DefaultCluster",
		BrokerName:                  hostName(),
		BrokerRole:                  RoleAsyncMaster,
		FlushDiskType:               FlushAsync,
		NamesrvAddr:                 os.Getenv("NAMESRV_ADDR"),
		ListenPort:                  10911,
		BrokerIP1:                   firstIPv4(),
		StorePathRootDir:            homePath("store"),
		AutoCreateTopicEnable:       true,
		AutoCreateSubscriptionGroup: true,
		DefaultTopicQueueNums:       8,
		BrokerPermission:            6,
		MaxMessageSize:              4 << 20,
		MapedFileSizeCommitLog:      1 << 30,
		MapedFileSizeConsumeQueue:   300000 * cqUnitBytes,
		FileReservedTime:            72 * time.Hour,
		DeleteWhen:                  []int{4},
		DiskMaxUsedSpaceRatio:       75,
		FlushIntervalCommitLog:      500 * time.Millisecond,
		FlushCommitLogLeastPages:    4,
		SyncFlushTimeout:            5 * time.Second,
		RegisterNameServerPeriod:    30 * time.Second,
		FlushConsumerOffsetInterval: 5 * time.Second,
		ChannelExpiredTimeout:       120 * time.Second,
		LongPollingEnable:           true,
		ShortPollingTimeMills:       time.Second,
		MaxTransferCountOnMessage:   32,
		MaxTransferBytesOnMessage:   256 << 10,
		CheckCRCOnRecover:           true,
		RegionID:                    "DefaultRegion",
		TraceOn:                     true,
		NotifyConsumerIDsChanged:    true,

		MessageDelayLevel:               defaultDelayLevels,
		FlushDelayOffsetInterval:        10 * time.Second,
		FlushIntervalConsumeQueue:       time.Second,
		FlushConsumeQueueLeastPages:     2,
		SendThreadPoolQueueCapacity:     20000,
		FlushCommitLogThoroughInterval:  10 * time.Second,
		TransactionTimeOut:              6 * time.Second,
		TransactionCheckMax:             15,
		TransactionCheckInterval:        30 * time.Second,
		RebalanceLockMaxLiveTime:        60 * time.Second,
		ClusterTopicEnable:              true,
		BrokerTopicEnable:               true,
		MaxTransferBytesOnMessageInDisk: 64 << 10,
		MaxTransferCountOnMessageInDisk: 8,
		AccessMessageInMemoryMaxRatio:   40,
		DefaultQueryMaxNum:              32,
		MessageIndexEnable:              true,
		MaxHashSlotNum:                  5_000_000,
		MaxIndexNum:                     20_000_000,
		WaitTimeMillsInSendQueue:        200 * time.Millisecond,
		WaitTimeMillsInPullQueue:        5 * time.Second,
		RegisterBrokerTimeoutMills:      24 * time.Second,
		ForceRegister:                   true,
		CleanFileForciblyEnable:         true,
		BindAddress:                     "0.0.0.0",
		StoreReplyMessageEnable:         true,
	}
}

// DefaultBroker returns RocketMQ's broker defaults with the derived fields
// filled in. Start from it when building a config in code: Validate fills
// only zero fields whose zero value is meaningless, never booleans.
func DefaultBroker() Broker {
	b := rawBroker()
	// The defaults are valid by construction; Validate only derives fields.
	_ = b.Validate()
	return b
}

// LoadBroker reads the broker config: defaults, then the .properties file at
// path (none when empty), then overrides (CLI flags such as -n →
// "namesrvAddr"), then Validate. Unknown keys come back as warnings.
func LoadBroker(path string, overrides map[string]string) (Broker, []string, error) {
	b := rawBroker()
	warnings, err := load(b.fields(), path, overrides)
	if err != nil {
		return Broker{}, warnings, err
	}
	if err := b.Validate(); err != nil {
		return Broker{}, warnings, err
	}
	return b, warnings, nil
}

// fields is the key table of b; every entry points into b.
func (b *Broker) fields() []field {
	const maxI32, maxI64 = math.MaxInt32, math.MaxInt64
	ms, hours := time.Millisecond, time.Hour
	return []field{
		{key: "brokerClusterName", val: strVal{&b.BrokerClusterName}, zeroIsDefault: true},
		{key: "brokerName", val: strVal{&b.BrokerName}, zeroIsDefault: true},
		{key: "brokerId", val: intVal[int64]{&b.BrokerID, 0, maxI64}},
		{key: "brokerRole", val: enumVal[Role]{&b.BrokerRole, []Role{RoleAsyncMaster, RoleSyncMaster, RoleSlave}}, zeroIsDefault: true},
		{key: "flushDiskType", val: enumVal[FlushType]{&b.FlushDiskType, []FlushType{FlushAsync, FlushSync}}, zeroIsDefault: true},
		{key: "namesrvAddr", val: strVal{&b.NamesrvAddr}},
		{key: "listenPort", val: intVal[int]{&b.ListenPort, 0, 65535}},
		{key: "bindAddress", val: strVal{&b.BindAddress}, zeroIsDefault: true},
		{key: "haListenPort", val: intVal[int]{&b.HAListenPort, 0, 65535}},
		{key: "brokerIP1", val: strVal{&b.BrokerIP1}, zeroIsDefault: true},
		{key: "brokerIP2", val: strVal{&b.BrokerIP2}},
		{key: "storePathRootDir", val: strVal{&b.StorePathRootDir}, zeroIsDefault: true},
		{key: "storePathCommitLog", val: strVal{&b.StorePathCommitLog}},
		{key: "autoCreateTopicEnable", val: boolVal{&b.AutoCreateTopicEnable}},
		{key: "autoCreateSubscriptionGroup", val: boolVal{&b.AutoCreateSubscriptionGroup}},
		{key: "defaultTopicQueueNums", val: intVal[int32]{&b.DefaultTopicQueueNums, 1, maxI32}, zeroIsDefault: true},
		{key: "brokerPermission", val: intVal[int32]{&b.BrokerPermission, 0, 7}},
		{key: "maxMessageSize", val: intVal[int]{&b.MaxMessageSize, 1, maxI32}, zeroIsDefault: true},
		{key: "mappedFileSizeCommitLog", aliases: []string{"mapedFileSizeCommitLog"},
			val: intVal[int64]{&b.MapedFileSizeCommitLog, 1, maxI32}, zeroIsDefault: true},
		{key: "mappedFileSizeConsumeQueue", aliases: []string{"mapedFileSizeConsumeQueue"},
			val: intVal[int64]{&b.MapedFileSizeConsumeQueue, 1, maxI32}, zeroIsDefault: true},
		{key: "fileReservedTime", val: durVal{&b.FileReservedTime, hours}},
		{key: "deleteWhen", val: hoursVal{&b.DeleteWhen}, zeroIsDefault: true},
		{key: "diskMaxUsedSpaceRatio", val: intVal[int]{&b.DiskMaxUsedSpaceRatio, 1, 100}, zeroIsDefault: true},
		{key: "flushIntervalCommitLog", val: durVal{&b.FlushIntervalCommitLog, ms}, zeroIsDefault: true},
		{key: "flushCommitLogLeastPages", val: intVal[int]{&b.FlushCommitLogLeastPages, 0, maxI32}},
		{key: "flushCommitLogThoroughInterval", val: durVal{&b.FlushCommitLogThoroughInterval, ms}, zeroIsDefault: true},
		{key: "flushIntervalConsumeQueue", val: durVal{&b.FlushIntervalConsumeQueue, ms}, zeroIsDefault: true},
		{key: "flushConsumeQueueLeastPages", val: intVal[int]{&b.FlushConsumeQueueLeastPages, 0, maxI32}},
		{key: "sendThreadPoolQueueCapacity", val: intVal[int64]{&b.SendThreadPoolQueueCapacity, 1, maxI64}, zeroIsDefault: true},
		{key: "syncFlushTimeout", val: durVal{&b.SyncFlushTimeout, ms}, zeroIsDefault: true},
		{key: "registerNameServerPeriod", val: durVal{&b.RegisterNameServerPeriod, ms}},
		{key: "registerBrokerTimeoutMills", val: durVal{&b.RegisterBrokerTimeoutMills, ms}, zeroIsDefault: true},
		{key: "compressedRegister", val: boolVal{&b.CompressedRegister}},
		{key: "forceRegister", val: boolVal{&b.ForceRegister}},
		{key: "flushConsumerOffsetInterval", val: durVal{&b.FlushConsumerOffsetInterval, ms}, zeroIsDefault: true},
		{key: "channelExpiredTimeout", val: durVal{&b.ChannelExpiredTimeout, ms}, zeroIsDefault: true},
		{key: "longPollingEnable", val: boolVal{&b.LongPollingEnable}},
		{key: "shortPollingTimeMills", val: durVal{&b.ShortPollingTimeMills, ms}, zeroIsDefault: true},
		{key: "maxTransferCountOnMessageInMemory", val: intVal[int]{&b.MaxTransferCountOnMessage, 1, maxI32}, zeroIsDefault: true},
		{key: "maxTransferBytesOnMessageInMemory", val: intVal[int]{&b.MaxTransferBytesOnMessage, 1, maxI32}, zeroIsDefault: true},
		{key: "maxTransferCountOnMessageInDisk", val: intVal[int]{&b.MaxTransferCountOnMessageInDisk, 1, maxI32}, zeroIsDefault: true},
		{key: "maxTransferBytesOnMessageInDisk", val: intVal[int]{&b.MaxTransferBytesOnMessageInDisk, 1, maxI32}, zeroIsDefault: true},
		{key: "accessMessageInMemoryMaxRatio", val: intVal[int]{&b.AccessMessageInMemoryMaxRatio, 0, 100}},
		{key: "defaultQueryMaxNum", val: intVal[int]{&b.DefaultQueryMaxNum, 1, maxI32}, zeroIsDefault: true},
		{key: "messageIndexEnable", val: boolVal{&b.MessageIndexEnable}},
		{key: "maxHashSlotNum", val: intVal[int]{&b.MaxHashSlotNum, 1, maxI32}, zeroIsDefault: true},
		{key: "maxIndexNum", val: intVal[int]{&b.MaxIndexNum, 2, maxI32}, zeroIsDefault: true},
		{key: "checkCRCOnRecover", val: boolVal{&b.CheckCRCOnRecover}},
		{key: "regionId", val: strVal{&b.RegionID}, zeroIsDefault: true},
		{key: "traceOn", val: boolVal{&b.TraceOn}},
		{key: "notifyConsumerIdsChangedEnable", val: boolVal{&b.NotifyConsumerIDsChanged}},
		{key: "messageDelayLevel", val: strVal{&b.MessageDelayLevel}, zeroIsDefault: true},
		{key: "flushDelayOffsetInterval", val: durVal{&b.FlushDelayOffsetInterval, ms}, zeroIsDefault: true},
		{key: "transactionTimeOut", val: durVal{&b.TransactionTimeOut, ms}, zeroIsDefault: true},
		{key: "transactionCheckMax", val: intVal[int]{&b.TransactionCheckMax, 0, maxI32}},
		{key: "transactionCheckInterval", val: durVal{&b.TransactionCheckInterval, ms}, zeroIsDefault: true},
		{key: "rebalanceLockMaxLiveTime", aliases: []string{"rocketmq.broker.rebalance.lockMaxLiveTime"},
			val: durVal{&b.RebalanceLockMaxLiveTime, ms}, zeroIsDefault: true},
		{key: "clusterTopicEnable", val: boolVal{&b.ClusterTopicEnable}},
		{key: "brokerTopicEnable", val: boolVal{&b.BrokerTopicEnable}},
		{key: "enablePropertyFilter", val: boolVal{&b.EnablePropertyFilter}},
		{key: "slaveReadEnable", val: boolVal{&b.SlaveReadEnable}},
		{key: "waitTimeMillsInSendQueue", val: durVal{&b.WaitTimeMillsInSendQueue, ms}, zeroIsDefault: true},
		{key: "waitTimeMillsInPullQueue", val: durVal{&b.WaitTimeMillsInPullQueue, ms}, zeroIsDefault: true},
		{key: "cleanFileForciblyEnable", val: boolVal{&b.CleanFileForciblyEnable}},
		{key: "storeReplyMessageEnable", val: boolVal{&b.StoreReplyMessageEnable}},
	}
}

// Validate fills the derived fields and the zero fields whose zero value is
// meaningless, applies Java's adjustments and rejects bad values and
// combinations with an error naming the key. Call it once before Start;
// the config is immutable afterwards.
//
// Derived: haListenPort (0 ⇒ listenPort+1, unless listenPort is 0 too),
// storePathCommitLog (<storePathRootDir>/commitlog), brokerIP2 (brokerIP1).
// Adjusted as Java does: brokerId forced to 0 for *_MASTER roles,
// registerNameServerPeriod clamped to 10–60 s, mappedFileSizeConsumeQueue
// rounded up to a multiple of 20.
func (b *Broker) Validate() error {
	def := rawBroker()
	if err := checkFields(b.fields(), def.fields()); err != nil {
		return err
	}
	switch b.BrokerRole {
	case RoleAsyncMaster, RoleSyncMaster:
		b.BrokerID = 0
	case RoleSlave:
		if b.BrokerID <= 0 {
			return invalid("brokerId", strconv.FormatInt(b.BrokerID, 10), errors.New("a SLAVE needs brokerId > 0"))
		}
	}
	b.RegisterNameServerPeriod = min(max(b.RegisterNameServerPeriod, registerPeriodMin), registerPeriodMax)
	if r := b.MapedFileSizeConsumeQueue % cqUnitBytes; r != 0 {
		b.MapedFileSizeConsumeQueue += cqUnitBytes - r
	}
	if _, err := ParseDelayLevels(b.MessageDelayLevel); err != nil {
		return invalid("messageDelayLevel", b.MessageDelayLevel, err)
	}
	if b.HAListenPort == 0 && b.ListenPort != 0 {
		if b.ListenPort == 65535 {
			return invalid("listenPort", "65535", errors.New("haListenPort (listenPort+1) would overflow"))
		}
		b.HAListenPort = b.ListenPort + 1
	}
	if b.StorePathCommitLog == "" {
		b.StorePathCommitLog = filepath.Join(b.StorePathRootDir, "commitlog")
	}
	if b.BrokerIP2 == "" {
		b.BrokerIP2 = b.BrokerIP1
	}
	if err := checkNamesrvAddrs(b.NamesrvAddrs()); err != nil {
		return invalid("namesrvAddr", b.NamesrvAddr, err)
	}
	return nil
}

// Properties lists the effective config as RocketMQ key=value pairs in the
// units of the file, sorted by key (the `-p` printout).
func (b Broker) Properties() []KV { return listFields(b.fields()) }

// DelayLevels is messageDelayLevel parsed: element i is the delay of level
// i+1. Validate has checked it; an unparsable value gives the defaults.
func (b Broker) DelayLevels() []time.Duration {
	levels, err := ParseDelayLevels(b.MessageDelayLevel)
	if err != nil {
		levels, _ = ParseDelayLevels(defaultDelayLevels)
	}
	return levels
}

// ParseDelayLevels parses RocketMQ's messageDelayLevel: space-separated
// durations, each a positive integer with unit s, m, h or d ("1s 5s 10s 30s
// 1m ...").
func ParseDelayLevels(s string) ([]time.Duration, error) {
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	var levels []time.Duration
	for _, f := range strings.Fields(s) {
		unit, ok := units[f[len(f)-1]]
		n, err := strconv.ParseInt(f[:len(f)-1], 10, 32)
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("level %d %q: want a positive integer with unit s, m, h or d", len(levels)+1, f)
		}
		levels = append(levels, time.Duration(n)*unit)
	}
	if len(levels) == 0 {
		return nil, errors.New("no delay levels")
	}
	return levels, nil
}

// NamesrvAddrs splits namesrvAddr ("ip:port;ip:port") into addresses.
func (b Broker) NamesrvAddrs() []string {
	var addrs []string
	for _, a := range strings.Split(b.NamesrvAddr, ";") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// checkNamesrvAddrs requires "host:port" addresses with a numeric port, as
// Java's string2SocketAddress does at startup.
func checkNamesrvAddrs(addrs []string) error {
	for _, a := range addrs {
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("address %q: want host:port", a)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("address %q: bad port", a)
		}
	}
	return nil
}
