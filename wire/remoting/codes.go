package remoting

// Request codes (wire doc §4). Names follow RocketMQ's RequestCode constants
// in MixedCaps with a Req prefix.
const (
	ReqSendMessage                    int32 = 10
	ReqPullMessage                    int32 = 11
	ReqQueryMessage                   int32 = 12
	ReqQueryConsumerOffset            int32 = 14
	ReqUpdateConsumerOffset           int32 = 15
	ReqUpdateAndCreateTopic           int32 = 17
	ReqGetAllTopicConfig              int32 = 21
	ReqUpdateBrokerConfig             int32 = 25
	ReqGetBrokerConfig                int32 = 26
	ReqGetBrokerRuntimeInfo           int32 = 28
	ReqSearchOffsetByTimestamp        int32 = 29
	ReqGetMaxOffset                   int32 = 30
	ReqGetMinOffset                   int32 = 31
	ReqGetEarliestMsgStoreTime        int32 = 32
	ReqViewMessageByID                int32 = 33
	ReqHeartBeat                      int32 = 34
	ReqUnregisterClient               int32 = 35
	ReqConsumerSendMsgBack            int32 = 36
	ReqEndTransaction                 int32 = 37
	ReqGetConsumerListByGroup         int32 = 38
	ReqCheckTransactionState          int32 = 39
	ReqNotifyConsumerIDsChanged       int32 = 40
	ReqLockBatchMQ                    int32 = 41
	ReqUnlockBatchMQ                  int32 = 42
	ReqGetAllConsumerOffset           int32 = 43
	ReqGetAllDelayOffset              int32 = 45
	ReqCheckClientConfig              int32 = 46
	ReqPutKVConfig                    int32 = 100
	ReqGetKVConfig                    int32 = 101
	ReqDeleteKVConfig                 int32 = 102
	ReqRegisterBroker                 int32 = 103
	ReqUnregisterBroker               int32 = 104
	ReqGetRouteInfoByTopic            int32 = 105
	ReqGetBrokerClusterInfo           int32 = 106
	ReqUpdateAndCreateSubscription    int32 = 200
	ReqGetAllSubscriptionGroupConfig  int32 = 201
	ReqGetTopicStatsInfo              int32 = 202
	ReqGetConsumerConnectionList      int32 = 203
	ReqGetProducerConnectionList      int32 = 204
	ReqWipeWritePermOfBroker          int32 = 205
	ReqGetAllTopicListFromNameserver  int32 = 206
	ReqDeleteSubscriptionGroup        int32 = 207
	ReqGetConsumeStats                int32 = 208
	ReqDeleteTopicInBroker            int32 = 215
	ReqDeleteTopicInNamesrv           int32 = 216
	ReqRegisterTopicInNamesrv         int32 = 217
	ReqGetKVListByNamespace           int32 = 219
	ReqResetConsumerClientOffset      int32 = 220
	ReqGetConsumerStatusFromClient    int32 = 221
	ReqInvokeBrokerToResetOffset      int32 = 222
	ReqInvokeBrokerToGetConsumerStats int32 = 223
	ReqGetTopicsByCluster             int32 = 224
	ReqQueryTopicConsumeByWho         int32 = 300
	ReqGetConsumerRunningInfo         int32 = 307
	ReqConsumeMessageDirectly         int32 = 309
	ReqSendMessageV2                  int32 = 310
	ReqUpdateNamesrvConfig            int32 = 318
	ReqGetNamesrvConfig               int32 = 319
	ReqSendBatchMessage               int32 = 320
	ReqQueryDataVersion               int32 = 322
	ReqSendReplyMessage               int32 = 324
	ReqSendReplyMessageV2             int32 = 325
	ReqPushReplyMessageToClient       int32 = 326
	ReqAddWritePermOfBroker           int32 = 327
	ReqGetTopicConfig                 int32 = 351
	ReqGetSubscriptionGroupConfig     int32 = 352
	ReqLitePullMessage                int32 = 361
)

// Response codes (wire doc §3).
const (
	RespSuccess                   int32 = 0
	RespSystemError               int32 = 1
	RespSystemBusy                int32 = 2
	RespRequestCodeNotSupported   int32 = 3
	RespTransactionFailed         int32 = 4
	RespFlushDiskTimeout          int32 = 10
	RespSlaveNotAvailable         int32 = 11
	RespFlushSlaveTimeout         int32 = 12
	RespMessageIllegal            int32 = 13
	RespServiceNotAvailable       int32 = 14
	RespVersionNotSupported       int32 = 15
	RespNoPermission              int32 = 16
	RespTopicNotExist             int32 = 17
	RespTopicExistAlready         int32 = 18
	RespPullNotFound              int32 = 19
	RespPullRetryImmediately      int32 = 20
	RespPullOffsetMoved           int32 = 21
	RespQueryNotFound             int32 = 22
	RespSubscriptionParseFailed   int32 = 23
	RespSubscriptionNotExist      int32 = 24
	RespSubscriptionNotLatest     int32 = 25
	RespSubscriptionGroupNotExist int32 = 26
	RespFilterDataNotExist        int32 = 27
	RespFilterDataNotLatest       int32 = 28
	RespInvalidParameter          int32 = 29
	RespConsumerNotOnline         int32 = 206
	RespConsumeMsgTimeout         int32 = 207
	RespIllegalOperation          int32 = 604
)
