package registrar

import (
	"context"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/namesrv"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// manyTopics is the topic count of the large-table tests: Java's broker
// stops registering past about 60,000 (its JSON body exceeds 16 MiB).
const manyTopics = 100_000

// manyTopicsTimeout bounds the waits of TestRegisterManyTopicsWithNameServer
// in place of testkit.Timeout: under -race on a loaded 2-core machine the
// first registration of manyTopics and the NameServer's topic list take
// tens of seconds (22 s at load 16, beyond 34 s at load 25). It only
// catches a hang; the test asserts no speed.
const manyTopicsTimeout = 2 * time.Minute

// staticTopics is a topic table that never changes.
type staticTopics struct {
	table body.TopicConfigSerializeWrapper
}

func (s staticTopics) TopicTable() body.TopicConfigSerializeWrapper { return s.table }
func (staticTopics) OnTopicsChanged(func())                         {}

// topicsOf is a table of n (at most a million) topics "topic-000000"….
// The names are slices of one string: a string per name (fmt.Sprintf) was
// an eighth of TestRegisterManyTopicsWithNameServer's allocations, which
// the race detector makes costly.
func topicsOf(n int) staticTopics {
	const nameLen = len("topic-000000")
	buf := make([]byte, 0, n*nameLen)
	for i := range n {
		buf = fmt.Appendf(buf, "topic-%06d", i)
	}
	names := string(buf)
	table := make(map[string]body.TopicConfig, n)
	for i := range n {
		name := names[i*nameLen : (i+1)*nameLen]
		table[name] = body.TopicConfig{TopicName: name, ReadQueueNums: 8, WriteQueueNums: 8, Perm: 6, TopicFilterType: "SINGLE_TAG"}
	}
	return staticTopics{body.TopicConfigSerializeWrapper{TopicConfigTable: table, DataVersion: body.DataVersion{Timestamp: 1, Counter: int64(n)}}}
}

// javaCRC is Java's UtilAll.crc32: CRC-32 IEEE with the sign bit cleared.
func javaCRC(b []byte) int32 { return int32(crc32.ChecksumIEEE(b) & 0x7FFFFFFF) }

// startNamesrvServer starts a real NameServer on a loopback port.
func startNamesrvServer(t testing.TB) *namesrv.Server {
	t.Helper()
	cfg := config.DefaultNamesrv()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.KVConfigPath = filepath.Join(t.TempDir(), "kvConfig.json")
	return testkit.Start(t, namesrv.New(cfg, zerolog.Nop()))
}

// brokerConfig is the config of the registering broker.
func brokerConfig(namesrvAddr string, compressed bool) config.Broker {
	return config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", NamesrvAddr: namesrvAddr,
		ListenPort: 10911, HAListenPort: 10912, BrokerIP1: "127.0.0.1",
		RegisterNameServerPeriod: time.Hour, CompressedRegister: compressed,
	}
}

// TestRegisterManyTopicsWithNameServer registers 100,000 topics with a real
// NameServer: the body goes compressed without compressedRegister, the
// NameServer accepts it, and every topic is routed.
func TestRegisterManyTopicsWithNameServer(t *testing.T) {
	checkGoroutines(t)
	ns := startNamesrvServer(t)
	client := netkit.Client(t, netio.ClientConfig{})
	cfg := brokerConfig(ns.Addr(), false)
	cfg.RegisterBrokerTimeoutMills = manyTopicsTimeout // bounds Spawn's first registration
	reg, err := Spawn(testkit.ActorSystem(t), cfg, topicsOf(manyTopics), client, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Stop(context.Background()) })
	invoke := func(cmd *remoting.Command) *remoting.Command {
		t.Helper()
		resp, err := client.Invoke(testkit.ContextWithin(t, manyTopicsTimeout), ns.Addr(), cmd)
		if err != nil {
			t.Fatalf("invoke code %d: %v", cmd.Code, err)
		}
		return resp
	}

	for _, i := range []int{0, manyTopics / 2, manyTopics - 1} {
		topic := fmt.Sprintf("topic-%06d", i)
		resp := invoke(remoting.NewRequest(remoting.ReqGetRouteInfoByTopic, map[string]string{"topic": topic}, nil))
		if resp.Code != remoting.RespSuccess {
			t.Fatalf("route of %s: code %d %s", topic, resp.Code, resp.Remark)
		}
		var rd body.TopicRouteData
		if err := body.DecodeJSON(resp.Body, &rd); err != nil {
			t.Fatal(err)
		}
		if len(rd.QueueDatas) != 1 || rd.QueueDatas[0].BrokerName != "broker-a" || rd.QueueDatas[0].WriteQueueNums != 8 ||
			len(rd.BrokerDatas) != 1 || rd.BrokerDatas[0].BrokerAddrs[0] != "127.0.0.1:10911" {
			t.Fatalf("route of %s = %+v", topic, rd)
		}
	}
	resp := invoke(remoting.NewRequest(remoting.ReqGetAllTopicListFromNameserver, nil, nil))
	var tl body.TopicList
	if err := body.DecodeJSON(resp.Body, &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.TopicList) != manyTopics {
		t.Fatalf("NameServer lists %d topics, want %d", len(tl.TopicList), manyTopics)
	}
}

// TestCompressionChoice checks the form of the body: JSON for a small table,
// compressed for a large one or with compressedRegister, and a bodyCrc32
// (Java's masked CRC-32) over what is sent.
func TestCompressionChoice(t *testing.T) {
	tests := []struct {
		name           string
		topics         int
		compressedFlag bool
		wantCompressed bool
	}{
		{name: "small table", topics: 10, wantCompressed: false},
		{name: "compressedRegister", topics: 10, compressedFlag: true, wantCompressed: true},
		{name: "beyond compressTopicsMin", topics: compressTopicsMin + 1, wantCompressed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			ns := startNamesrv(t)
			md := topicsOf(tt.topics)
			reg, err := Spawn(testkit.ActorSystem(t), brokerConfig(ns.addr, tt.compressedFlag), md, netkit.Client(t, netio.ClientConfig{}), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = reg.Stop(context.Background()) })
			cmd := ns.lastRegister()
			if got := cmd.ExtFields["compressed"]; got != strconv.FormatBool(tt.wantCompressed) {
				t.Fatalf("compressed = %q, want %v", got, tt.wantCompressed)
			}
			if got, want := cmd.ExtFields["bodyCrc32"], strconv.Itoa(int(javaCRC(cmd.Body))); got != want {
				t.Fatalf("bodyCrc32 = %s, want %s", got, want)
			}
			rb, err := body.DecodeRegisterBody(cmd.Body, tt.wantCompressed)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(rb.TopicConfigSerializeWrapper.TopicConfigTable); n != tt.topics {
				t.Fatalf("%d topics in the body, want %d", n, tt.topics)
			}
			if rb.TopicConfigSerializeWrapper.DataVersion != md.TopicTable().DataVersion {
				t.Fatalf("dataVersion %+v, want %+v", rb.TopicConfigSerializeWrapper.DataVersion, md.TopicTable().DataVersion)
			}
		})
	}
}

// BenchmarkRegisterManyTopics measures a registration round of 100,000
// unchanged topics with a real NameServer (the registrar reuses its body;
// the NameServer inflates and decodes it, finds the DataVersion unchanged
// and answers) and reports the body size. The first registration, which
// builds the body and applies the table, is part of Spawn.
func BenchmarkRegisterManyTopics(b *testing.B) {
	ns := startNamesrvServer(b)
	cfg, md := brokerConfig(ns.Addr(), false), topicsOf(manyTopics)
	reg, err := Spawn(testkit.ActorSystem(b), cfg, md, netkit.Client(b, netio.ClientConfig{}), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = reg.Stop(context.Background()) })
	for b.Loop() {
		res, err := reg.system.Root.RequestFuture(reg.pid, &registerAndWait{}, time.Minute).Result()
		if err != nil {
			b.Fatal(err)
		}
		if n := res.(roundDone).failed; n > 0 {
			b.Fatalf("%d registrations failed", n)
		}
	}
	_, body := (&registrarActor{cfg: cfg, meta: md, log: zerolog.Nop()}).registerRequest()
	b.ReportMetric(float64(len(body)), "body-bytes")
}
