package namesrv

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// testServer starts a NameServer on 127.0.0.1:0 with its KV file under a
// temp dir; mutate adjusts the config first.
func testServer(t *testing.T, mutate func(*config.Namesrv), opts ...func(*Server)) *Server {
	t.Helper()
	cfg := config.DefaultNamesrv()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.KVConfigPath = filepath.Join(t.TempDir(), "namesrv", "kvConfig.json")
	if mutate != nil {
		mutate(&cfg)
	}
	s := New(cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel))
	for _, o := range opts {
		o(s)
	}
	return testkit.Start(t, s)
}

// peer is one client connection to the server (a broker or a client).
type peer struct {
	t    *testing.T
	c    *netio.Client
	addr string
}

func newPeer(t *testing.T, s *Server) *peer {
	t.Helper()
	return &peer{t: t, c: netkit.Client(t, netio.ClientConfig{}), addr: s.Addr()}
}

func (p *peer) invoke(code int32, ext map[string]string, b []byte) *remoting.Command {
	p.t.Helper()
	return netkit.Invoke(p.t, p.c, p.addr, remoting.NewRequest(code, ext, b))
}

// broker describes one registering broker.
type broker struct {
	cluster, name, addr string
	id                  int64
	counter             int64 // dataVersion counter
	topics              []body.TopicConfig
	timeoutMs           int64 // heartbeatTimeoutMillis, 0 = absent
}

func (p *peer) register(b broker) *remoting.Command {
	p.t.Helper()
	table := map[string]body.TopicConfig{}
	for _, tc := range b.topics {
		table[tc.TopicName] = tc
	}
	rb := body.RegisterBrokerBody{TopicConfigSerializeWrapper: body.TopicConfigSerializeWrapper{
		TopicConfigTable: table,
		DataVersion:      body.DataVersion{Timestamp: 1700000000000, Counter: b.counter},
	}}
	ext := map[string]string{
		"clusterName": b.cluster, "brokerName": b.name, "brokerAddr": b.addr,
		"haServerAddr": b.addr + "0", "brokerId": strconv.FormatInt(b.id, 10), "compressed": "false",
	}
	if b.timeoutMs > 0 {
		ext["heartbeatTimeoutMillis"] = strconv.FormatInt(b.timeoutMs, 10)
	}
	return p.invoke(remoting.ReqRegisterBroker, ext, body.EncodeJSON(&rb))
}

func (p *peer) route(topic string) *remoting.Command {
	p.t.Helper()
	return p.invoke(remoting.ReqGetRouteInfoByTopic, map[string]string{"topic": topic}, nil)
}

func (p *peer) mustCode(resp *remoting.Command, code int32) {
	p.t.Helper()
	if resp.Code != code {
		p.t.Fatalf("code = %d (remark %q), want %d", resp.Code, resp.Remark, code)
	}
}

func topic(name string, queues int32) body.TopicConfig {
	return body.TopicConfig{TopicName: name, ReadQueueNums: queues, WriteQueueNums: queues, Perm: 6, TopicFilterType: "SINGLE_TAG"}
}
