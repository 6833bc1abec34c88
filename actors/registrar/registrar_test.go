package registrar

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// checkGoroutines registers a cleanup that waits until no goroutine runs code
// of our actors or of protoactor (a link blocked in Invoke, a leaked timer
// callback, an actor still processing). Call it first in a test, so the check
// runs after every other cleanup. gnet's and ants' own pools are not ours to
// judge and are ignored.
func checkGoroutines(t *testing.T) {
	t.Helper()
	testkit.NoLeaksIn(t, "actormq/actors/", "protoactor-go")
}

// fakeNamesrv records the REGISTER_BROKER / UNREGISTER_BROKER it receives.
type fakeNamesrv struct {
	addr       string
	mu         sync.Mutex
	registers  []*remoting.Command
	unregister []*remoting.Command
}

func (f *fakeNamesrv) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	f.mu.Lock()
	switch cmd.Code {
	case remoting.ReqRegisterBroker:
		f.registers = append(f.registers, cmd)
	case remoting.ReqUnregisterBroker:
		f.unregister = append(f.unregister, cmd)
	}
	f.mu.Unlock()
	_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
}

func (f *fakeNamesrv) OnClose(*netio.Conn) {}

func (f *fakeNamesrv) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.registers), len(f.unregister)
}

func (f *fakeNamesrv) lastRegister() *remoting.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.registers[len(f.registers)-1]
}

func startNamesrv(t *testing.T) *fakeNamesrv {
	t.Helper()
	f := &fakeNamesrv{}
	f.addr = netkit.Serve(t, f)
	return f
}

type fixture struct {
	meta *meta.Metadata
	reg  *Registrar
}

func start(t *testing.T, namesrvAddr string, period time.Duration) *fixture {
	t.Helper()
	sys := testkit.ActorSystem(t)
	cfg := config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", BrokerID: 0,
		NamesrvAddr: namesrvAddr, ListenPort: 10911, HAListenPort: 10912, BrokerIP1: "127.0.0.1",
		StorePathRootDir: t.TempDir(), AutoCreateTopicEnable: true, DefaultTopicQueueNums: 8,
		RegisterNameServerPeriod: period,
	}
	md, err := meta.Spawn(sys, meta.Config{Broker: cfg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	client := netkit.Client(t, netio.ClientConfig{}) // closed after the cleanup below
	reg, err := Spawn(sys, cfg, md, client, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		_ = reg.Stop(ctx)
		_ = md.Stop(ctx)
	})
	return &fixture{meta: md, reg: reg}
}

func TestRegisterHeadersAndBody(t *testing.T) {
	checkGoroutines(t)
	ns1, ns2 := startNamesrv(t), startNamesrv(t)
	f := start(t, " "+ns1.addr+";"+testkit.ClosedAddr(t)+"; "+ns2.addr+";", time.Hour)

	// Spawn returned only after the first round; the dead namesrv did not fail it.
	for _, ns := range []*fakeNamesrv{ns1, ns2} {
		if n, _ := ns.counts(); n != 1 {
			t.Fatalf("namesrv %s got %d registrations after Spawn, want 1", ns.addr, n)
		}
	}
	cmd := ns1.lastRegister()
	want := map[string]string{
		"brokerName": "broker-a", "brokerAddr": "127.0.0.1:10911", "clusterName": "DefaultCluster",
		"haServerAddr": "127.0.0.1:10912", "brokerId": "0", "compressed": "false",
	}
	for k, v := range want {
		if cmd.ExtFields[k] != v {
			t.Errorf("header %s = %q, want %q", k, cmd.ExtFields[k], v)
		}
	}
	var rb body.RegisterBrokerBody
	if err := body.DecodeJSON(cmd.Body, &rb); err != nil {
		t.Fatal(err)
	}
	tw := rb.TopicConfigSerializeWrapper
	if tc, ok := tw.TopicConfigTable[body.DefaultTopic]; !ok || tc.Perm != 7 || tc.WriteQueueNums != 8 {
		t.Errorf("TBW102 in registration = %+v, %v", tc, ok)
	}
	if tw.DataVersion != f.meta.TopicTable().DataVersion {
		t.Errorf("dataVersion %+v, want %+v", tw.DataVersion, f.meta.TopicTable().DataVersion)
	}
	if !bytes.Contains(cmd.Body, []byte(`"filterServerList":[]`)) {
		t.Errorf("body without an empty filterServerList: %s", cmd.Body)
	}
}

func TestReRegistersOnTopicChange(t *testing.T) {
	checkGoroutines(t)
	ns := startNamesrv(t)
	f := start(t, ns.addr, time.Hour)
	if _, err := f.meta.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: "NewTopic", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "registration with the new topic", func() bool {
		if n, _ := ns.counts(); n < 2 {
			return false
		}
		var rb body.RegisterBrokerBody
		if err := body.DecodeJSON(ns.lastRegister().Body, &rb); err != nil {
			return false
		}
		_, ok := rb.TopicConfigSerializeWrapper.TopicConfigTable["NewTopic"]
		return ok
	})
}

func TestPeriodicRegistrationAndUnregister(t *testing.T) {
	checkGoroutines(t)
	ns := startNamesrv(t)
	f := start(t, ns.addr, 20*time.Millisecond)
	testkit.Eventually(t, "periodic registrations", func() bool { n, _ := ns.counts(); return n >= 3 })

	f.reg.Unregister(testkit.Context(t))
	regs, unregs := ns.counts()
	if unregs != 1 {
		t.Fatalf("%d UNREGISTER_BROKER, want 1", unregs)
	}
	ns.mu.Lock()
	u := ns.unregister[0]
	ns.mu.Unlock()
	for k, v := range map[string]string{"brokerName": "broker-a", "brokerAddr": "127.0.0.1:10911", "clusterName": "DefaultCluster", "brokerId": "0"} {
		if u.ExtFields[k] != v {
			t.Errorf("unregister header %s = %q, want %q", k, u.ExtFields[k], v)
		}
	}
	// Registration stopped: a topic change after Unregister sends nothing.
	if _, err := f.meta.CreateTopic(testkit.Context(t), body.TopicConfig{TopicName: "Late", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}); err != nil {
		t.Fatal(err)
	}
	// Nor does a period or debounce timer that fired anyway (the timers
	// would deliver these ticks only after their delays, later than the
	// check below).
	f.reg.system.Root.Send(f.reg.pid, &periodTick{})
	f.reg.system.Root.Send(f.reg.pid, &registerNow{})
	f.reg.Unregister(testkit.Context(t)) // a second round trip through the actor and its link
	if n, _ := ns.counts(); n != regs {
		t.Errorf("%d registrations after Unregister, want %d", n, regs)
	}
}

func TestRegisterTimeoutFromConfig(t *testing.T) {
	checkGoroutines(t)
	// A NameServer that accepts REGISTER_BROKER and never answers.
	silent := netkit.Serve(t, &netkit.Router{Handlers: map[int32]func(*netio.Conn, *remoting.Command){
		remoting.ReqRegisterBroker: func(*netio.Conn, *remoting.Command) {},
	}})
	sys := testkit.ActorSystem(t)
	cfg := config.Broker{
		BrokerClusterName: "DefaultCluster", BrokerName: "broker-a", NamesrvAddr: silent, ListenPort: 10911,
		BrokerIP1: "127.0.0.1", StorePathRootDir: t.TempDir(), RegisterNameServerPeriod: time.Hour,
		RegisterBrokerTimeoutMills: 50 * time.Millisecond,
	}
	md, err := meta.Spawn(sys, meta.Config{Broker: cfg, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	client := netkit.Client(t, netio.ClientConfig{})
	type spawned struct {
		reg *Registrar
		err error
	}
	done := make(chan spawned, 1)
	go func() {
		reg, err := Spawn(sys, cfg, md, client, zerolog.Nop())
		done <- spawned{reg, err}
	}()
	// With the 24 s default the first round would outlast testkit.Timeout.
	s := testkit.Receive(t, done, "Spawn to give up on the silent NameServer")
	if s.err != nil {
		t.Fatalf("Spawn: %v", s.err)
	}
	ctx := testkit.Context(t)
	if err := s.reg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := md.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
