// Package config owns the broker and NameServer configurations: RocketMQ's
// own property keys read from Java-style .properties files, defaults,
// validation and the `-p` printout. A config is immutable after Start.
package config

import "time"

// Role is brokerRole.
type Role string

const (
	RoleAsyncMaster Role = "ASYNC_MASTER"
	RoleSyncMaster  Role = "SYNC_MASTER"
	RoleSlave       Role = "SLAVE"
)

// FlushType is flushDiskType.
type FlushType string

const (
	FlushAsync FlushType = "ASYNC_FLUSH"
	FlushSync  FlushType = "SYNC_FLUSH"
)

// Broker is the broker configuration. Field comments give the property key.
type Broker struct {
	BrokerClusterName           string        // brokerClusterName, default DefaultCluster
	BrokerName                  string        // brokerName, default host name
	BrokerID                    int64         // brokerId, 0 = master
	BrokerRole                  Role          // brokerRole
	FlushDiskType               FlushType     // flushDiskType
	NamesrvAddr                 string        // namesrvAddr "host:port;host:port" (or -n, or NAMESRV_ADDR)
	ListenPort                  int           // listenPort, default 10911
	HAListenPort                int           // haListenPort, default listenPort+1
	BrokerIP1                   string        // brokerIP1, default first non-loopback IPv4
	StorePathRootDir            string        // storePathRootDir, default ~/store
	StorePathCommitLog          string        // storePathCommitLog, default <root>/commitlog
	AutoCreateTopicEnable       bool          // autoCreateTopicEnable, default true
	AutoCreateSubscriptionGroup bool          // autoCreateSubscriptionGroup, default true
	DefaultTopicQueueNums       int32         // defaultTopicQueueNums, default 8
	BrokerPermission            int32         // brokerPermission, default 6
	MaxMessageSize              int           // maxMessageSize bytes, default 4 MiB
	MapedFileSizeCommitLog      int64         // mapedFileSizeCommitLog (also mappedFileSizeCommitLog), 1 GiB
	MapedFileSizeConsumeQueue   int64         // mapedFileSizeConsumeQueue (also mappedFileSizeConsumeQueue), 6000000
	FileReservedTime            time.Duration // fileReservedTime hours, default 72h
	DeleteWhen                  []int         // deleteWhen "04;16" hours of day
	DiskMaxUsedSpaceRatio       int           // diskMaxUsedSpaceRatio percent, default 75
	FlushIntervalCommitLog      time.Duration // flushIntervalCommitLog ms, default 500ms
	FlushCommitLogLeastPages    int           // flushCommitLogLeastPages, default 4
	SyncFlushTimeout            time.Duration // syncFlushTimeout ms, default 5s
	RegisterNameServerPeriod    time.Duration // registerNameServerPeriod ms, default 30s (clamped 10-60s)
	FlushConsumerOffsetInterval time.Duration // flushConsumerOffsetInterval ms, default 5s
	ChannelExpiredTimeout       time.Duration // channelExpiredTimeout ms, default 120s
	LongPollingEnable           bool          // longPollingEnable, default true
	ShortPollingTimeMills       time.Duration // shortPollingTimeMills ms, default 1s
	MaxTransferCountOnMessage   int           // maxTransferCountOnMessageInMemory, default 32
	MaxTransferBytesOnMessage   int           // maxTransferBytesOnMessageInMemory, default 256 KiB
	CheckCRCOnRecover           bool          // checkCRCOnRecover, default true
	RegionID                    string        // regionId, default DefaultRegion
	TraceOn                     bool          // traceOn, default true
	NotifyConsumerIDsChanged    bool          // notifyConsumerIdsChangedEnable, default true

	// Added by the config owner: further RocketMQ keys the broker may use.
	BrokerIP2                       string        // brokerIP2 (HA address advertised), default brokerIP1
	MessageDelayLevel               string        // messageDelayLevel, default "1s 5s 10s 30s 1m ... 2h"
	FlushDelayOffsetInterval        time.Duration // flushDelayOffsetInterval ms, default 10s (delayOffset.json)
	FlushIntervalConsumeQueue       time.Duration // flushIntervalConsumeQueue ms, default 1s
	FlushConsumeQueueLeastPages     int           // flushConsumeQueueLeastPages, default 2
	SendThreadPoolQueueCapacity     int64         // sendThreadPoolQueueCapacity: sends admitted and not answered yet, beyond which SYSTEM_BUSY; default 20000 (Java's 10000 is a queue beside its send threads' work)
	FlushCommitLogThoroughInterval  time.Duration // flushCommitLogThoroughInterval ms, default 10s
	TransactionTimeOut              time.Duration // transactionTimeOut ms, default 6s
	TransactionCheckMax             int           // transactionCheckMax, default 15
	TransactionCheckInterval        time.Duration // transactionCheckInterval ms, default 30s
	RebalanceLockMaxLiveTime        time.Duration // rebalanceLockMaxLiveTime ms (Java: -Drocketmq.broker.rebalance.lockMaxLiveTime), default 60s
	ClusterTopicEnable              bool          // clusterTopicEnable, default true
	BrokerTopicEnable               bool          // brokerTopicEnable, default true
	EnablePropertyFilter            bool          // enablePropertyFilter (SQL92), default false
	SlaveReadEnable                 bool          // slaveReadEnable, default false
	MaxTransferBytesOnMessageInDisk int           // maxTransferBytesOnMessageInDisk, default 64 KiB
	MaxTransferCountOnMessageInDisk int           // maxTransferCountOnMessageInDisk, default 8
	AccessMessageInMemoryMaxRatio   int           // accessMessageInMemoryMaxRatio percent, default 40
	DefaultQueryMaxNum              int           // defaultQueryMaxNum, default 32
	MessageIndexEnable              bool          // messageIndexEnable, default true: index keys for QUERY_MESSAGE
	MaxHashSlotNum                  int           // maxHashSlotNum, default 5000000 (slots per index file)
	MaxIndexNum                     int           // maxIndexNum, default 20000000 (items per index file)
	WaitTimeMillsInSendQueue        time.Duration // waitTimeMillsInSendQueue ms, default 200ms
	WaitTimeMillsInPullQueue        time.Duration // waitTimeMillsInPullQueue ms, default 5s
	RegisterBrokerTimeoutMills      time.Duration // registerBrokerTimeoutMills ms, default 24s
	CompressedRegister              bool          // compressedRegister, default false
	ForceRegister                   bool          // forceRegister, default true
	CleanFileForciblyEnable         bool          // cleanFileForciblyEnable, default true
	BindAddress                     string        // bindAddress (5.x NettyServerConfig) to listen on, default 0.0.0.0
	StoreReplyMessageEnable         bool          // storeReplyMessageEnable, default true: request-reply replies are also stored

	// ConfigPath is the properties file mqbroker was started with (-c), ""
	// without one; mqbroker sets it. It is not a property key:
	// UPDATE_BROKER_CONFIG persists the effective config there (Java's
	// brokerConfigPath).
	ConfigPath string
}

// Namesrv is the NameServer configuration.
type Namesrv struct {
	ListenPort                  int           // listenPort, default 9876
	KVConfigPath                string        // kvConfigPath, default ~/namesrv/kvConfig.json
	ScanNotActiveBrokerInterval time.Duration // scanNotActiveBrokerInterval ms, default 10s (issue: scanned every 10 s)
	BrokerChannelExpiredTime    time.Duration // brokerChannelExpiredTime ms, default 120s
	EnableAllTopicList          bool          // enableAllTopicList, default true
	OrderMessageEnable          bool          // orderMessageEnable, default false

	BindAddress string // bindAddress (5.x NettyServerConfig), default 0.0.0.0

	// ListenAddr, when set, is the "host:port" to listen on instead of
	// BindAddress:ListenPort (tests use "127.0.0.1:0"). It is not a property key.
	ListenAddr string
}
