package faultfs_test

import (
	"fmt"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/wire/remoting"
)

// A consume queue's msync fails once (EIO): the broker stops taking sends
// (SERVICE_NOT_AVAILABLE, and it stays so although faultfs would let the
// next msync succeed, as Linux does after reporting a write-back error),
// keeps serving pulls, does not stop clean (the abort file stays), and a
// broker started on what the disk kept after a power cut serves every
// acknowledged message: the units the failed queue never made durable are
// re-dispatched from the commit log.
func TestBrokerConsumeQueueFlushErrorStopsSends(t *testing.T) {
	fs := faultfs.New(5)
	old, addr := brokerOn(t, fs, config.FlushSync)
	c := netkit.Client(t, netio.ClientConfig{})
	var acked []string
	id := 0
	send := func() *remoting.Command {
		id++
		resp := netkit.Invoke(t, c, addr, sendCmd(id, bodyOf(id, 100)))
		if resp.Code == remoting.RespSuccess {
			acked = append(acked, msgID(id))
		}
		return resp
	}
	fs.Inject(faultfs.Rule{Ops: faultfs.OpMsync, Path: "/store/consumequeue/", Kind: faultfs.KindEIO, Nth: 1})
	// A round by pages (every second) msyncs the queue once two pages
	// (410 units) are due on faultfs, whose files cannot start write-back.
	var refusal *remoting.Command
	testkit.Eventually(t, "sends refused after the consume queue's failed msync", func() bool {
		for range 100 {
			switch resp := send(); resp.Code {
			case remoting.RespSuccess:
			case remoting.RespServiceNotAvailable:
				refusal = resp
				return true
			default:
				t.Fatalf("send %d: code %d %s", id, resp.Code, resp.Remark)
			}
		}
		return false
	})
	if want := "the message store is not writable (consume queue write error); restart the broker"; refusal.Remark != want {
		t.Fatalf("refusal remark %q, want %q (no paths of the store)", refusal.Remark, want)
	}
	if ev := fs.Events(); len(ev) != 1 || ev[0].Op != faultfs.OpMsync {
		t.Fatalf("faults %v, want the one msync", ev)
	}
	// Sticky: faultfs's next msync would succeed, and the flusher rounds
	// keep running.
	for range 3 {
		if resp := send(); resp.Code != remoting.RespServiceNotAvailable {
			t.Fatalf("send after the failure: code %d %s", resp.Code, resp.Remark)
		}
	}
	if got := pullAll(t, c, addr); fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Fatalf("pulled %d messages after the failure, want the %d acknowledged", len(got), len(acked))
	}
	if err := old.Shutdown(testkit.Context(t)); err == nil {
		t.Fatal("shutdown after a failed consume-queue flush reported no error")
	}

	after := fs.Crash()
	if _, err := after.Stat("/store/abort"); err != nil {
		t.Fatalf("abort file after the unclean stop: %v", err)
	}
	_, addr = brokerOn(t, after, config.FlushSync)
	if got := pullAll(t, c, addr); fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Fatalf("after the restart pulled %d messages, want the %d acknowledged", len(got), len(acked))
	}
	if resp := send(); resp.Code != remoting.RespSuccess {
		t.Fatalf("send after the restart: code %d %s", resp.Code, resp.Remark)
	}
}
