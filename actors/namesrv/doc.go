// Package namesrv owns the NameServer: the routing table (clusters, brokers
// by name and id, topic queue data, broker liveness) and the KV config
// (kvConfig.json). See shared/docs/wire-protocol.md §5 and §8.
//
// Two actors own the state, one each:
//
//	actor    owns                                        fed by
//	routes   clusterAddrTable, brokerAddrTable,           REGISTER/UNREGISTER_BROKER, route and
//	         topicQueueTable, brokerLiveTable (+ conns)   topic queries, connection closes, expiry timer
//	kv       kvConfig.json and the published kvTable     PUT/GET/DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE
//
// The netio handler decodes each request on its event loop and Sends it,
// with its connection, to the owner, which writes the response itself. The
// route actor reads the KV table (ORDER_TOPIC_CONFIG) through the immutable
// snapshot the KV actor publishes after every persisted change.
//
// kvConfig.json (written atomically by storage/metadata.Save, the previous
// version kept as kvConfig.json.bak):
//
//	{"configTable":{"<namespace>":{"<key>":"<value>"}}}
//
// A compressed REGISTER_BROKER body (header compressed=true) is decoded by
// wire/body.DecodeRegisterBody, where its format is documented.
package namesrv
