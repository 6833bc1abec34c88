package faultfs_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/broker"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// The tests in this file run a whole broker on faultfs (broker.WithFS) and
// talk to it through the project's own client, as a producer and a
// consumer would.

const testTopic = "DiskTopic"

// brokerOn starts a broker whose store and config files live on fs, with
// small files: 1 MiB commit-log segments, 1000-unit consume-queue files and
// small index files.
func brokerOn(t *testing.T, fs *faultfs.FS, flush config.FlushType) (*broker.Broker, string) {
	t.Helper()
	port := netkit.BrokerPort(t)
	cfg := config.DefaultBroker()
	cfg.BrokerName = "faultfs"
	cfg.ListenPort = port
	cfg.HAListenPort = port + 1
	cfg.BindAddress = "127.0.0.1"
	cfg.BrokerIP1 = "127.0.0.1"
	cfg.NamesrvAddr = ""
	cfg.StorePathRootDir = "/store"
	cfg.StorePathCommitLog = ""
	cfg.FlushDiskType = flush
	cfg.MapedFileSizeCommitLog = 1 << 20
	cfg.MapedFileSizeConsumeQueue = 20 * 1000
	cfg.MaxHashSlotNum = 64
	cfg.MaxIndexNum = 2000
	// Retention must not delete what the test reads back.
	cfg.CleanFileForciblyEnable = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := broker.New(cfg, zerolog.Nop(), broker.WithFS(fs))
	if err := b.Start(); err != nil {
		t.Fatalf("broker start: %v", err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return b, b.Addr()
}

func sendCmd(id int, body []byte) *remoting.Command {
	return remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "PG_disk", "topic": testTopic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "1",
		"queueId": "0", "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag": "0", "properties": message.FormatProperties(map[string]string{message.PropertyUniqKey: msgID(id)}),
		"reconsumeTimes": "0", "unitMode": "false", "batch": "false",
	}, body)
}

// pullCmd pulls up to 32 messages of queue 0 of the test topic from offset,
// without suspending.
func pullCmd(offset int64) *remoting.Command {
	return remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
		"consumerGroup": "CG_disk", "topic": testTopic, "queueId": "0",
		"queueOffset": strconv.FormatInt(offset, 10), "maxMsgNums": "32", "sysFlag": "4",
		"commitOffset": "0", "suspendTimeoutMillis": "0", "subscription": "*", "subVersion": "0",
		"expressionType": "TAG",
	}, nil)
}

// sendAcked sends message id with a body of size bytes, appends its id to
// acked if the broker acknowledges it, and returns the response code.
func sendAcked(t *testing.T, c *netio.Client, addr string, acked *[]string, id, size int) int32 {
	t.Helper()
	resp := netkit.Invoke(t, c, addr, sendCmd(id, bodyOf(id, size)))
	if resp.Code == remoting.RespSuccess {
		*acked = append(*acked, msgID(id))
	} else if true {
		t.Logf("send %d: %d %s", id, resp.Code, resp.Remark)
	}
	return resp.Code
}

func msgID(id int) string { return fmt.Sprintf("ID%06d", id) }

func bodyOf(id, size int) []byte {
	b := make([]byte, size)
	copy(b, msgID(id))
	return b
}

// pullAll pulls queue 0 of the test topic from offset 0 to its end and
// returns the UNIQ_KEYs in queue-offset order, checking the offsets are
// dense.
func pullAll(t *testing.T, c *netio.Client, addr string) []string {
	t.Helper()
	var ids []string
	for offset := int64(0); ; {
		resp := netkit.Invoke(t, c, addr, pullCmd(offset))
		switch resp.Code {
		case remoting.RespSuccess:
		case remoting.RespPullNotFound:
			return ids
		default:
			t.Fatalf("pull at %d: code %d %s", offset, resp.Code, resp.Remark)
		}
		for b := resp.Body; len(b) > 0; {
			m, n, err := message.DecodeRecord(b, true)
			if err != nil {
				t.Fatalf("pulled record at offset %d: %v", offset, err)
			}
			if m.QueueOffset != offset {
				t.Fatalf("pulled queue offset %d, want %d", m.QueueOffset, offset)
			}
			id, _ := message.PropertyValue(m.Properties, message.PropertyUniqKey)
			ids = append(ids, id)
			offset++
			b = b[n:]
		}
	}
}

// A full disk: sends are refused with SERVICE_NOT_AVAILABLE (what Java
// answers while its store is not writable), pulls keep serving everything
// stored, and once space returns sends are accepted again without any
// record lost or half written.
func TestBrokerDiskFullIsReadOnlyUntilSpaceReturns(t *testing.T) {
	fs := faultfs.New(1)
	_, addr := brokerOn(t, fs, config.FlushSync)
	c := netkit.Client(t, netio.ClientConfig{})

	var acked []string
	send := func(id int) int32 { return sendAcked(t, c, addr, &acked, id, 4000) }
	if code := send(0); code != remoting.RespSuccess {
		t.Fatalf("first send: code %d", code)
	}
	// Room for less than the next segment: the commit log fills its first
	// segment, then cannot create the second.
	fs.SetCapacity(fs.Used() + 512<<10)
	id := 1
	for ; ; id++ {
		if id > 1000 {
			t.Fatal("the disk never filled")
		}
		if code := send(id); code != remoting.RespSuccess {
			if code != remoting.RespServiceNotAvailable {
				t.Fatalf("send %d on a full disk: code %d", id, code)
			}
			break
		}
	}
	for range 3 {
		id++
		if code := send(id); code != remoting.RespServiceNotAvailable {
			t.Fatalf("send while full: code %d", code)
		}
	}
	if got := pullAll(t, c, addr); fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Fatalf("pulled while full %d messages, want the %d acknowledged", len(got), len(acked))
	}

	fs.SetCapacity(0)
	testkit.Eventually(t, "sends accepted again", func() bool {
		id++
		return send(id) == remoting.RespSuccess
	})
	for range 3 {
		id++
		if code := send(id); code != remoting.RespSuccess {
			t.Fatalf("send after space returned: code %d", code)
		}
	}
	if got := pullAll(t, c, addr); fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Fatalf("pulled %v\nwant %v", got, acked)
	}
	for _, e := range fs.Events() {
		if e.Kind == faultfs.KindUnbackedWrite {
			t.Fatalf("a mapped store had no space behind it (SIGBUS on Linux): %v", e)
		}
	}
}

// A power cut under a running broker: the old broker's file system fails
// from then on (it stops writing and shuts down without hanging), and a
// broker started on what the disk kept serves every message that was
// acknowledged under SYNC_FLUSH, in order, once.
func TestBrokerCrashKeepsAcknowledgedSyncFlushSends(t *testing.T) {
	fs := faultfs.New(2)
	old, addr := brokerOn(t, fs, config.FlushSync)
	c := netkit.Client(t, netio.ClientConfig{})
	var acked []string
	for id := range 300 {
		resp := netkit.Invoke(t, c, addr, sendCmd(id, bodyOf(id, 1000+id)))
		if resp.Code != remoting.RespSuccess {
			t.Fatalf("send %d: code %d %s", id, resp.Code, resp.Remark)
		}
		acked = append(acked, msgID(id))
	}
	after := fs.Crash()
	if err := old.Shutdown(testkit.Context(t)); err == nil {
		t.Fatal("shutdown on a crashed disk reported no error")
	}

	_, addr = brokerOn(t, after, config.FlushSync)
	if got := pullAll(t, c, addr); fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Fatalf("after the crash pulled %d messages, want the %d acknowledged:\n%v", len(got), len(acked), got)
	}
}

// A disk that fills while the commit log still has room in its current
// segment, so that a consume-queue file cannot be created: every
// acknowledged send must still be delivered, once space returns at the
// latest.
func TestBrokerConsumeQueueOutOfSpace(t *testing.T) {
	fs := faultfs.New(3)
	_, addr := brokerOn(t, fs, config.FlushSync)
	c := netkit.Client(t, netio.ClientConfig{})
	var acked []string
	send := func(id int) int32 { return sendAcked(t, c, addr, &acked, id, 100) }
	if code := send(0); code != remoting.RespSuccess {
		t.Fatalf("first send: code %d", code)
	}
	// The dispatch, which runs after the ack, creates the first send's
	// consume-queue and index files and writes its unit: wait for all of
	// it, or the capacity below leaves no room for them and sends are
	// refused from the start. The file's size alone is not enough: it is
	// set before the file's blocks are allocated, and an allocation that
	// met the capacity left the first unit waiting for space.
	testkit.Eventually(t, "the first send's unit, consume-queue and index files", func() bool {
		max := netkit.Invoke(t, c, addr, remoting.NewRequest(remoting.ReqGetMaxOffset,
			map[string]string{"topic": testTopic, "queueId": "0"}, nil))
		if max.Code != remoting.RespSuccess || max.ExtFields["offset"] != "1" {
			return false
		}
		cq, err := fs.Stat("/store/consumequeue/" + testTopic + "/0/00000000000000000000")
		idx, _ := fs.ReadDir("/store/index")
		if err != nil || cq.Size() != 20*1000 || len(idx) != 1 {
			return false
		}
		fi, err := fs.Stat("/store/index/" + idx[0].Name())
		return err == nil && fi.Size() > 0
	})
	// 1000 units fill a consume-queue file: leave room for nothing more
	// than the commit log's current segment holds.
	fs.SetCapacity(fs.Used())
	id, refused := 1, 0
	for ; id < 1500; id++ {
		switch code := send(id); code {
		case remoting.RespSuccess:
		case remoting.RespServiceNotAvailable:
			refused++
		default:
			t.Fatalf("send %d: code %d", id, code)
		}
	}
	if refused == 0 || len(acked) < 1000 {
		t.Fatalf("%d sends acknowledged, %d refused: the consume queue never ran out of space", len(acked), refused)
	}
	fs.SetCapacity(0)
	testkit.Eventually(t, "sends accepted again", func() bool {
		id++
		return send(id) == remoting.RespSuccess
	})
	got := pullAll(t, c, addr)
	if fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Fatalf("pulled %d messages, want the %d acknowledged", len(got), len(acked))
	}
}

// A consume-queue unit whose commit-log offset a flipped bit moved: the
// pull refuses the bytes it points at (they are not framed as the record
// the unit names) and serves every other message; nothing undecodable is
// ever sent as a message.
func TestBrokerPullSkipsAUnitThatMissesItsRecord(t *testing.T) {
	fs := faultfs.New(4)
	old, addr := brokerOn(t, fs, config.FlushSync)
	c := netkit.Client(t, netio.ClientConfig{})
	for id := range 30 {
		if resp := netkit.Invoke(t, c, addr, sendCmd(id, bodyOf(id, 200))); resp.Code != remoting.RespSuccess {
			t.Fatalf("send %d: code %d", id, resp.Code)
		}
	}
	if err := old.Shutdown(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	// Lowest bit of unit 10's commit-log offset (big-endian, bytes 0-7).
	if err := fs.FlipBit("/store/consumequeue/"+testTopic+"/0/00000000000000000000", 10*20+7, 0); err != nil {
		t.Fatal(err)
	}
	_, addr = brokerOn(t, fs, config.FlushSync)
	var got []string
	for offset := int64(0); offset < 30; {
		resp := netkit.Invoke(t, c, addr, pullCmd(offset))
		for b := resp.Body; len(b) > 0; {
			m, n, err := message.DecodeRecord(b, true)
			if err != nil {
				t.Fatalf("a pull at %d served bytes that are no record: %v", offset, err)
			}
			id, _ := message.PropertyValue(m.Properties, message.PropertyUniqKey)
			got = append(got, id)
			b = b[n:]
		}
		next, err := strconv.ParseInt(resp.ExtFields["nextBeginOffset"], 10, 64)
		if err != nil || next <= offset {
			t.Fatalf("pull at %d: code %d, nextBeginOffset %q", offset, resp.Code, resp.ExtFields["nextBeginOffset"])
		}
		offset = next
	}
	var want []string
	for id := range 30 {
		if id != 10 {
			want = append(want, msgID(id))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pulled %v\nwant %v", got, want)
	}
}
