package clients

import (
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/wire/remoting"
)

// TestProducerConnsFollowRegistrations: a producer group's published
// connections follow heartbeats, UNREGISTER_CLIENT, connection close and
// expiry.
func TestProducerConnsFollowRegistrations(t *testing.T) {
	f := newFixture(t, testBroker(t.TempDir()))
	a, b := f.client("A"), f.client("B")
	if got := f.mgr.ProducerConns("PG"); got != nil {
		t.Fatalf("unknown group: %v", got)
	}
	a.heartbeat("", "", nil, "PG")
	b.heartbeat("", "", nil, "PG", "PG2")
	if n := len(f.mgr.ProducerConns("PG")); n != 2 {
		t.Fatalf("PG conns %d, want 2", n)
	}
	if n := len(f.mgr.ProducerConns("PG2")); n != 1 {
		t.Fatalf("PG2 conns %d, want 1", n)
	}

	resp := b.invoke(remoting.NewRequest(remoting.ReqUnregisterClient, map[string]string{"clientID": "B", "producerGroup": "PG"}, nil))
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("UNREGISTER_CLIENT: %d %s", resp.Code, resp.Remark)
	}
	if n := len(f.mgr.ProducerConns("PG")); n != 1 {
		t.Fatalf("PG conns after unregister %d, want 1", n)
	}

	closeAll(t, b)
	testkit.Eventually(t, "PG2 gone with its connection", func() bool { return f.mgr.ProducerConns("PG2") == nil })

	f.now.Add(121 * time.Second)
	f.mgr.system.Root.Send(f.mgr.pid, &expiryTick{})
	testkit.Eventually(t, "PG expired", func() bool { return f.mgr.ProducerConns("PG") == nil })
}
