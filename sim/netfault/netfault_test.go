package netfault

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
)

// shortTimeout is the client timeout of the invokes that must time out
// (half-open, partition): the outcome, not its speed, is what is checked.
const shortTimeout = 300 * time.Millisecond

func TestForwardsUntouched(t *testing.T) {
	testkit.NoLeaksIn(t, "sim/netfault")
	srv := startEcho(t)
	p := listen(t, Options{Name: "c->s", Target: srv.addr})
	c := netkit.Client(t, netio.ClientConfig{})
	for i := range 50 {
		mustEcho(t, c, p.Addr(), body(i))
	}
	if ev := faultEvents(p); len(ev) != 0 {
		t.Fatalf("fault events without faults: %v", ev)
	}
}

func TestDelayHoldsEveryFrame(t *testing.T) {
	srv := startEcho(t)
	const delay = 100 * time.Millisecond
	p := listen(t, Options{Name: "c->s", Target: srv.addr, Faults: Faults{Delay: delay, Jitter: delay}})
	c := netkit.Client(t, netio.ClientConfig{})
	start := time.Now()
	mustEcho(t, c, p.Addr(), "slow")
	// A lower bound the proxy guarantees by construction: request and
	// response were each held at least delay.
	if took := time.Since(start); took < 2*delay {
		t.Fatalf("round trip took %s, want at least %s", took, 2*delay)
	}
}

func TestDropClosesTheConnection(t *testing.T) {
	srv := startEcho(t)
	p := listen(t, Options{Name: "c->s", Target: srv.addr, Faults: Faults{Drop: 1, Dirs: Down}})
	c := netkit.Client(t, netio.ClientConfig{})
	_, err := echo(c, p.Addr(), "lost answer", testkit.Timeout)
	if !errors.Is(err, netio.ErrClosed) {
		t.Fatalf("invoke whose response was dropped = %v, want ErrClosed", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("server handled %d requests, want 1 (only the response was dropped)", n)
	}
	ev := faultEvents(p)
	if len(ev) != 1 || ev[0].Kind != KindDrop || ev[0].Dir != Down || ev[0].Frame != 0 {
		t.Fatalf("events %v, want one drop of the first down frame", ev)
	}
}

func TestResetMidFrame(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dir      Direction
		requests int64 // handled by the server
	}{
		{name: "request cut", dir: Up, requests: 0},
		{name: "response cut", dir: Down, requests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startEcho(t)
			p := listen(t, Options{Name: "c->s", Target: srv.addr, Seed: 1, Faults: Faults{Reset: 1, Dirs: tc.dir}})
			c := netkit.Client(t, netio.ClientConfig{})
			_, err := echo(c, p.Addr(), "cut me", testkit.Timeout)
			if !errors.Is(err, netio.ErrClosed) {
				t.Fatalf("invoke through a reset = %v, want ErrClosed", err)
			}
			// The server saw the connection go; only then is its request
			// count final.
			testkit.Eventually(t, "server connection closed", func() bool { return srv.closes.Load() == 1 })
			if n := srv.requests.Load(); n != tc.requests {
				t.Fatalf("server handled %d requests, want %d", n, tc.requests)
			}
			ev := faultEvents(p)
			if len(ev) != 1 || ev[0].Kind != KindReset || ev[0].Dir != tc.dir || ev[0].Cut < 1 || ev[0].Cut >= ev[0].Bytes {
				t.Fatalf("events %v, want one reset of a %s frame cut strictly inside", ev, tc.dir)
			}
		})
	}
}

// TestResetsNeverGiveAWrongAnswer runs concurrent invokes through random
// resets in both directions: each gets its own echo or an error.
func TestResetsNeverGiveAWrongAnswer(t *testing.T) {
	srv := startEcho(t)
	p := listen(t, Options{Name: "c->s", Target: srv.addr, Seed: 7, Faults: Faults{Reset: 0.2}})
	c := netkit.Client(t, netio.ClientConfig{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wrong []string
	ok, failed := 0, 0
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				b := body(g*100 + i)
				resp, err := echo(c, p.Addr(), b, testkit.Timeout)
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case string(resp.Body) != b:
					wrong = append(wrong, b+" got "+string(resp.Body))
				default:
					ok++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(wrong) > 0 {
		t.Fatalf("wrong answers: %v", wrong)
	}
	if resets := countKind(faultEvents(p), KindReset); resets == 0 || failed == 0 || ok == 0 {
		t.Fatalf("%d resets, %d failed and %d answered invokes; want some of each", resets, failed, ok)
	}
}

func TestHalfOpenEndsByTheClientTimeout(t *testing.T) {
	srv := startEcho(t)
	p := listen(t, Options{Name: "c->s", Target: srv.addr, Faults: Faults{HalfOpen: 1, Dirs: Down}})
	c := netkit.Client(t, netio.ClientConfig{})
	for i := range 2 {
		if _, err := echo(c, p.Addr(), body(i), shortTimeout); !errors.Is(err, netio.ErrTimeout) {
			t.Fatalf("invoke %d over a half-open link = %v, want ErrTimeout", i, err)
		}
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("server handled %d requests, want 2 (requests still flow up)", n)
	}
	if n := p.Conns(); n != 1 {
		t.Fatalf("%d connections open, want the one half-open connection", n)
	}
	if ev := faultEvents(p); len(ev) != 1 || ev[0].Kind != KindHalfOpen || ev[0].Dir != Down {
		t.Fatalf("events %v, want one half-open of the down direction", ev)
	}
}

func TestPartitionHoldsUntilHeal(t *testing.T) {
	srv := startEcho(t)
	p := listen(t, Options{Name: "c->s", Target: srv.addr})
	old := netkit.Client(t, netio.ClientConfig{})
	mustEcho(t, old, p.Addr(), "before") // an existing connection

	p.Partition()
	fresh := netkit.Client(t, netio.ClientConfig{}) // a new connection
	for _, c := range []*netio.Client{old, fresh} {
		if _, err := echo(c, p.Addr(), "held", shortTimeout); !errors.Is(err, netio.ErrTimeout) {
			t.Fatalf("invoke across a partition = %v, want ErrTimeout", err)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("server handled %d requests during the partition, want only the one before", n)
	}

	p.Heal()
	// The held requests arrive (their answers find no waiter), and both
	// connections serve again.
	testkit.Eventually(t, "held requests delivered", func() bool { return srv.requests.Load() == 3 })
	mustEcho(t, old, p.Addr(), "after old")
	mustEcho(t, fresh, p.Addr(), "after fresh")
}

func TestSameSeedSameFaults(t *testing.T) {
	run := func(seed uint64) []Event {
		srv := startEcho(t)
		p := listen(t, Options{Name: "c->s", Target: srv.addr, Seed: seed, Faults: Faults{Reset: 0.15, Drop: 0.1}})
		c := netkit.Client(t, netio.ClientConfig{})
		for i := range 40 {
			_, _ = echo(c, p.Addr(), body(i), testkit.Timeout)
		}
		return faultEvents(p)
	}
	first, second := run(42), run(42)
	if len(first) == 0 {
		t.Fatal("no faults injected; the test needs some")
	}
	if !slices.Equal(first, second) {
		t.Fatalf("same seed, different faults:\n%v\n%v", first, second)
	}
}

func TestCloseEndsHeldConnections(t *testing.T) {
	testkit.NoLeaksIn(t, "sim/netfault")
	srv := startEcho(t)
	p, err := Listen(Options{Name: "c->s", Target: srv.addr})
	if err != nil {
		t.Fatal(err)
	}
	p.Partition()
	c := netkit.Client(t, netio.ClientConfig{})
	if _, err := echo(c, p.Addr(), "held", shortTimeout); !errors.Is(err, netio.ErrTimeout) {
		t.Fatalf("invoke across a partition = %v, want ErrTimeout", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n := p.Conns(); n != 0 {
		t.Fatalf("%d connections after Close", n)
	}
}

func TestNetworkPartitionsBetweenNamedEndpoints(t *testing.T) {
	b, c := startEcho(t), startEcho(t)
	n := NewNetwork(3, nil)
	t.Cleanup(func() { _ = n.Close() })
	ab, err := n.Link("a", "b", b.addr, Faults{})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := n.Link("a", "c", c.addr, Faults{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Link("a", "b", b.addr, Faults{}); err == nil {
		t.Fatal("a second link a->b was accepted")
	}
	cl := netkit.Client(t, netio.ClientConfig{})

	n.Partition("b", "a")
	if _, err := echo(cl, ab.Addr(), "cut", shortTimeout); !errors.Is(err, netio.ErrTimeout) {
		t.Fatalf("a->b during a partition of a and b = %v, want ErrTimeout", err)
	}
	mustEcho(t, cl, ac.Addr(), "a->c unaffected")

	n.Isolate("a")
	if !ab.Partitioned() || !ac.Partitioned() {
		t.Fatal("Isolate(a) left a link of a open")
	}
	n.HealAll()
	mustEcho(t, cl, ab.Addr(), "a->b healed")
	mustEcho(t, cl, ac.Addr(), "a->c healed")
	if n.Proxy("a", "b") != ab || n.Proxy("b", "a") != nil {
		t.Fatal("Proxy lookup by endpoints")
	}
	kinds := map[Kind]int{}
	for _, e := range n.Events() {
		kinds[e.Kind]++
	}
	if kinds[KindPartition] != 2 || kinds[KindHeal] != 2 {
		t.Fatalf("network events %v, want partitions of a->b and a->c and their heals", kinds)
	}
}
