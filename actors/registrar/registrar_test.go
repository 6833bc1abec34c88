package registrar

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/meta"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

const waitTimeout = 10 * time.Second

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkGoroutines registers a cleanup that waits until no goroutine runs
// code of this package or of protoactor (a link blocked in Invoke, a leaked
// timer callback, an actor still processing). Call it first in a test, so the
// check runs after every other cleanup. gnet's and ants' own pools are not
// ours to judge and are ignored.
func checkGoroutines(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitTimeout)
		for {
			leaked := ourGoroutines()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("goroutine leak:\n%s", strings.Join(leaked, "\n\n"))
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "checkGoroutines") || strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "actors/registrar.(") {
			continue
		}
		if strings.Contains(g, "actormq/actors/") || strings.Contains(g, "protoactor-go") {
			out = append(out, g)
		}
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
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
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", EventLoops: 1, Logger: zerolog.Nop()}, f)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	f.addr = srv.Addr()
	return f
}

// deadAddr is an address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

type fixture struct {
	meta *meta.Metadata
	reg  *Registrar
}

func start(t *testing.T, namesrvAddr string, period time.Duration) *fixture {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(sys.Shutdown)
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
	client := netio.NewClient(netio.ClientConfig{Logger: zerolog.Nop()})
	reg, err := Spawn(sys, cfg, md, client, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = reg.Stop(ctx)
		_ = client.Close()
		_ = md.Stop(ctx)
	})
	return &fixture{meta: md, reg: reg}
}

func TestRegisterHeadersAndBody(t *testing.T) {
	checkGoroutines(t)
	ns1, ns2 := startNamesrv(t), startNamesrv(t)
	f := start(t, " "+ns1.addr+";"+deadAddr(t)+"; "+ns2.addr+";", time.Hour)

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
	if _, err := f.meta.CreateTopic(ctxT(t), body.TopicConfig{TopicName: "NewTopic", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "registration with the new topic", func() bool {
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
	waitFor(t, "periodic registrations", func() bool { n, _ := ns.counts(); return n >= 3 })

	f.reg.Unregister(ctxT(t))
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
	if _, err := f.meta.CreateTopic(ctxT(t), body.TopicConfig{TopicName: "Late", ReadQueueNums: 1, WriteQueueNums: 1, Perm: 6}); err != nil {
		t.Fatal(err)
	}
	f.reg.Unregister(ctxT(t)) // a second round trip through the actor and its link
	if n, _ := ns.counts(); n != regs {
		t.Errorf("%d registrations after Unregister, want %d", n, regs)
	}
}
