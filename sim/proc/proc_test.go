package proc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/netfault"
	"github.com/actormq/actormq/wire/remoting"
)

// startTimeout bounds the tests' starts: the first one may build the
// binaries on a loaded 2-core machine.
const startTimeout = 5 * time.Minute

func startCluster(t *testing.T, brokerOpts Options) (ns, br *Proc) {
	t.Helper()
	ctx := testkit.ContextWithin(t, startTimeout)
	ns, err := StartNamesrv(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ns.Kill9() })
	if brokerOpts.Dir == "" {
		brokerOpts.Dir = t.TempDir()
	}
	brokerOpts.Namesrv = ns.Addr()
	br, err = StartBroker(ctx, brokerOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = br.Kill9() })
	if err := br.WaitRegistered(ctx, ns.Addr()); err != nil {
		t.Fatal(err)
	}
	return ns, br
}

// sendCommand is a SEND_MESSAGE as the Go client builds it.
func sendCommand(topic string, body []byte) *remoting.Command {
	return remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "PG_proc", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
		"queueId": "0", "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag": "0", "properties": "", "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
	}, body)
}

func send(t *testing.T, addr, topic string) (*remoting.Command, error) {
	t.Helper()
	c := netio.NewClient(netio.ClientConfig{})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	return c.Invoke(ctx, addr, sendCommand(topic, []byte("hello")))
}

func TestKill9RestartTerm(t *testing.T) {
	ns, br := startCluster(t, Options{})
	if resp, err := send(t, br.Addr(), "ProcTopic"); err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("send: %v %+v", err, resp)
	}
	firstPID := br.PID()

	e, err := br.Kill9()
	if err != nil || !e.Killed() {
		t.Fatalf("Kill9 = %v, %v; want a SIGKILL exit", e, err)
	}
	if _, err := send(t, br.Addr(), "ProcTopic"); err == nil {
		t.Fatal("send to a killed broker succeeded")
	}
	ctx := testkit.ContextWithin(t, startTimeout)
	if err := br.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if br.PID() == firstPID {
		t.Fatalf("restart kept pid %d", firstPID)
	}
	if err := br.WaitRegistered(ctx, ns.Addr()); err != nil {
		t.Fatal(err)
	}
	if resp, err := send(t, br.Addr(), "ProcTopic"); err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("send after restart: %v %+v", err, resp)
	}

	if err := br.Restart(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("Restart of a running broker = %v, want ErrRunning", err)
	}
	e, err = br.Term(testkit.Timeout)
	if err != nil || e != (Exit{Code: 0}) {
		t.Fatalf("Term = %v, %v; want exit status 0", e, err)
	}
	log, err := os.ReadFile(br.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"start"`, `"event":"kill9"`, `"exit":"signal killed"`, `"event":"term"`, `"exit":"exit status 0"`, "recoveredFromCrash\":true"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

func TestStartFailureQuotesTheLog(t *testing.T) {
	ctx := testkit.ContextWithin(t, startTimeout)
	_, err := StartBroker(ctx, Options{Dir: t.TempDir(), Props: map[string]string{"brokerRole": "NOT_A_ROLE"}})
	if !errors.Is(err, ErrNotReady) || !bytes.Contains([]byte(err.Error()), []byte("brokerRole")) {
		t.Fatalf("start with a bad brokerRole = %v, want ErrNotReady quoting brokerRole", err)
	}
}

func TestExitString(t *testing.T) {
	for _, tc := range []struct {
		exit Exit
		want string
	}{
		{exit: Exit{Code: 0}, want: "exit status 0"},
		{exit: Exit{Code: 1}, want: "exit status 1"},
		{exit: Exit{Code: -1, Signal: syscall.SIGKILL}, want: "signal killed"},
	} {
		if got := tc.exit.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.exit, got, tc.want)
		}
	}
}

// TestBrokerBehindProxies wires a broker to its NameServer through a
// netfault proxy and a client to the broker through another, as sim does.
func TestBrokerBehindProxies(t *testing.T) {
	ctx := testkit.ContextWithin(t, startTimeout)
	ns, err := StartNamesrv(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ns.Kill9() })
	network := netfault.NewNetwork(1, nil)
	t.Cleanup(func() { _ = network.Close() })
	toNS, err := network.Link("broker", "namesrv", ns.Addr(), netfault.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	br, err := StartBroker(ctx, Options{Dir: t.TempDir(), Namesrv: toNS.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = br.Kill9() })
	if err := br.WaitRegistered(ctx, ns.Addr()); err != nil {
		t.Fatal(err)
	}
	toBroker, err := network.Link("client", "broker", br.Addr(), netfault.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := send(t, toBroker.Addr(), "ProxiedTopic"); err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("send through the proxy: %v %+v", err, resp)
	}
	network.Partition("client", "broker")
	c := netio.NewClient(netio.ClientConfig{})
	defer c.Close()
	shortCtx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Invoke(shortCtx, toBroker.Addr(), sendCommand("ProxiedTopic", []byte("held"))); !errors.Is(err, netio.ErrTimeout) {
		t.Fatalf("send across a partition = %v, want ErrTimeout", err)
	}
	network.HealAll()
	if resp, err := send(t, toBroker.Addr(), "ProxiedTopic"); err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("send after the heal: %v %+v", err, resp)
	}
}
