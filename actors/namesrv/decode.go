package namesrv

import (
	"fmt"
	"math"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// Decoded requests. The handler decodes headers and bodies on the event loop
// (decoding is cheap and parallel there) and Sends the result to the owning
// actor, which only applies it.
type (
	unregisterOp struct {
		cluster, brokerName, brokerAddr string
		brokerID                        int64
	}
	routeOp           struct{ topic string }
	clusterInfoOp     struct{}
	allTopicsOp       struct{}
	topicsByClusterOp struct{ cluster string }
	deleteTopicOp     struct{ topic, cluster string }
	registerTopicOp   struct {
		topic      string
		queueDatas []body.QueueData
	}
	writePermOp struct {
		brokerName string
		wipe       bool
	}
	dataVersionOp struct {
		brokerAddr  string
		dataVersion body.DataVersion
	}
	kvPutOp    struct{ namespace, key, value string }
	kvGetOp    struct{ namespace, key string }
	kvDeleteOp struct{ namespace, key string }
	kvListOp   struct{ namespace string }
)

// decodeRouteRequest decodes a request the route actor serves. ok is false
// for codes it does not serve.
func decodeRouteRequest(cmd *remoting.Command, defaultTimeout time.Duration) (op any, ok bool, err error) {
	switch cmd.Code {
	case remoting.ReqRegisterBroker:
		op, err = decodeRegister(cmd, defaultTimeout)
	case remoting.ReqUnregisterBroker:
		op, err = decodeUnregister(cmd)
	case remoting.ReqGetRouteInfoByTopic:
		var topic string
		topic, err = cmd.RequiredString("topic")
		op = routeOp{topic: topic}
	case remoting.ReqGetBrokerClusterInfo:
		op = clusterInfoOp{}
	case remoting.ReqGetAllTopicListFromNameserver:
		op = allTopicsOp{}
	case remoting.ReqGetTopicsByCluster:
		var cluster string
		cluster, err = cmd.RequiredString("cluster")
		op = topicsByClusterOp{cluster: cluster}
	case remoting.ReqDeleteTopicInNamesrv:
		var topic string
		topic, err = cmd.RequiredString("topic")
		cluster, _ := cmd.Ext("clusterName")
		op = deleteTopicOp{topic: topic, cluster: cluster}
	case remoting.ReqRegisterTopicInNamesrv:
		op, err = decodeRegisterTopic(cmd)
	case remoting.ReqWipeWritePermOfBroker, remoting.ReqAddWritePermOfBroker:
		var name string
		name, err = cmd.RequiredString("brokerName")
		op = writePermOp{brokerName: name, wipe: cmd.Code == remoting.ReqWipeWritePermOfBroker}
	case remoting.ReqQueryDataVersion:
		op, err = decodeQueryDataVersion(cmd)
	default:
		return nil, false, nil
	}
	return op, true, err
}

// decodeKVRequest decodes a request the KV actor serves. ok is false for
// codes it does not serve.
func decodeKVRequest(cmd *remoting.Command) (op any, ok bool, err error) {
	var f [3]string
	need := func(keys ...string) error {
		for i, k := range keys {
			v, err := cmd.RequiredString(k)
			if err != nil {
				return err
			}
			f[i] = v
		}
		return nil
	}
	switch cmd.Code {
	case remoting.ReqPutKVConfig:
		err = need("namespace", "key", "value")
		op = kvPutOp{namespace: f[0], key: f[1], value: f[2]}
	case remoting.ReqGetKVConfig:
		err = need("namespace", "key")
		op = kvGetOp{namespace: f[0], key: f[1]}
	case remoting.ReqDeleteKVConfig:
		err = need("namespace", "key")
		op = kvDeleteOp{namespace: f[0], key: f[1]}
	case remoting.ReqGetKVListByNamespace:
		err = need("namespace")
		op = kvListOp{namespace: f[0]}
	default:
		return nil, false, nil
	}
	return op, true, err
}

func decodeRegister(cmd *remoting.Command, defaultTimeout time.Duration) (*registration, error) {
	r := &registration{}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"clusterName", &r.cluster}, {"brokerName", &r.brokerName},
		{"brokerAddr", &r.brokerAddr}, {"haServerAddr", &r.haServerAddr},
	} {
		if *f.dst, err = cmd.RequiredString(f.key); err != nil {
			return nil, err
		}
	}
	if r.brokerID, err = cmd.RequiredInt64("brokerId"); err != nil {
		return nil, err
	}
	timeoutMs, err := cmd.OptionalInt64("heartbeatTimeoutMillis", 0)
	if err != nil {
		return nil, err
	}
	r.timeout = defaultTimeout
	if timeoutMs > 0 && timeoutMs <= math.MaxInt64/int64(time.Millisecond) {
		r.timeout = time.Duration(timeoutMs) * time.Millisecond
	}
	crc, err := cmd.OptionalInt64("bodyCrc32", 0)
	if err != nil {
		return nil, err
	}
	if crc < math.MinInt32 || crc > math.MaxUint32 {
		return nil, fmt.Errorf("%w: bodyCrc32=%d", remoting.ErrBadField, crc)
	}
	// Java sends a signed int; a peer may send the unsigned form.
	if crc != 0 && !crcMatches(cmd.Body, int32(uint32(crc))) {
		return nil, reply.Errorf(ErrCRCMismatch, "crc32 not match")
	}
	rb, err := decodeRegisterBody(cmd.Body, cmd.OptionalBool("compressed", false))
	if err != nil {
		return nil, err
	}
	r.topics = rb.TopicConfigSerializeWrapper.TopicConfigTable
	r.dataVersion = rb.TopicConfigSerializeWrapper.DataVersion
	r.filterServers = rb.FilterServerList
	if len(cmd.Body) > 0 && r.topics == nil {
		// A body without a topic table declares no topics, as an empty one does.
		r.topics = map[string]body.TopicConfig{}
	}
	return r, nil
}

func decodeUnregister(cmd *remoting.Command) (unregisterOp, error) {
	var op unregisterOp
	var err error
	if op.cluster, err = cmd.RequiredString("clusterName"); err != nil {
		return op, err
	}
	if op.brokerName, err = cmd.RequiredString("brokerName"); err != nil {
		return op, err
	}
	if op.brokerAddr, err = cmd.RequiredString("brokerAddr"); err != nil {
		return op, err
	}
	op.brokerID, err = cmd.RequiredInt64("brokerId")
	return op, err
}

func decodeRegisterTopic(cmd *remoting.Command) (registerTopicOp, error) {
	topic, err := cmd.RequiredString("topic")
	if err != nil {
		return registerTopicOp{}, err
	}
	var rd body.TopicRouteData
	if len(cmd.Body) > 0 {
		if err := body.DecodeJSON(cmd.Body, &rd); err != nil {
			return registerTopicOp{}, fmt.Errorf("%w: %w", ErrBadBody, err)
		}
	}
	return registerTopicOp{topic: topic, queueDatas: rd.QueueDatas}, nil
}

func decodeQueryDataVersion(cmd *remoting.Command) (dataVersionOp, error) {
	// The other header fields are required by Java but only the address keys
	// the live table.
	for _, k := range []string{"clusterName", "brokerName", "brokerId"} {
		if _, err := cmd.RequiredString(k); err != nil {
			return dataVersionOp{}, err
		}
	}
	addr, err := cmd.RequiredString("brokerAddr")
	if err != nil {
		return dataVersionOp{}, err
	}
	op := dataVersionOp{brokerAddr: addr}
	if len(cmd.Body) > 0 {
		if err := body.DecodeJSON(cmd.Body, &op.dataVersion); err != nil {
			return op, fmt.Errorf("%w: %w", ErrBadBody, err)
		}
	}
	return op, nil
}

// notSupported is the answer to a request code nobody serves.
func notSupported(code int32) error {
	return reply.Errorf(reply.ErrNotSupported, " request type %d not supported", code)
}
