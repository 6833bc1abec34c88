package broker

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

// Shape of the idle-queue test: 300 topics of 10 queues, each queue
// written once and then left alone.
const (
	idleTopics         = 300
	idleQueuesPerTopic = 10
	// idleSlack bounds the goroutines and live timers the whole run may
	// add: far below one per topic, let alone one per queue.
	idleSlack = 32
)

// TestIdleQueuesCostNoGoroutinesOrTimers creates 3,000 queues over 300
// topics through a running broker, writes one message into each and leaves
// them idle: the goroutine count returns to what it was before, and no
// timer per topic or queue stays alive.
//
// Live timers are counted from the heap profile: with MemProfileRate 1
// every timer allocated by time.AfterFunc, NewTimer, NewTicker or After is
// sampled, and an armed timer stays reachable (the runtime's timer heap
// holds it) through GC, so an idle topic or queue keeping one would add
// hundreds or thousands.
func TestIdleQueuesCostNoGoroutinesOrTimers(t *testing.T) {
	addr := startIdleBroker(t)
	client := netkit.Client(t, netio.ClientConfig{})
	// Warm up every path the run takes (topic creation, a send, a queue's
	// first unit) so that lazily started pools count in the base.
	createTopic(t, client, addr, "Warm")
	sendOne(t, client, addr, "Warm", 0)
	base := settledGoroutines()

	prevRate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	t.Cleanup(func() { runtime.MemProfileRate = prevRate })
	timersBefore := liveTimers()

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < idleTopics; i += 4 {
				topic := "Idle" + strconv.Itoa(i)
				createTopic(t, client, addr, topic)
				for q := range idleQueuesPerTopic {
					sendOne(t, client, addr, topic, q)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := 0; i < idleTopics; i += idleTopics / 10 {
		topic := "Idle" + strconv.Itoa(i)
		for q := range idleQueuesPerTopic {
			testkit.Eventually(t, "the unit of "+topic+" in its consume queue", func() bool {
				return maxOffset(t, client, addr, topic, q) == 1
			})
		}
	}

	testkit.Eventually(t, "the goroutine count back near its base", func() bool {
		return testkit.Goroutines() <= base+idleSlack
	})
	if n := liveTimers() - timersBefore; n > idleSlack {
		t.Errorf("%d more live timers with %d idle queues", n, idleTopics*idleQueuesPerTopic)
	}
}

func startIdleBroker(t *testing.T) string {
	t.Helper()
	port := netkit.BrokerPort(t)
	cfg := config.DefaultBroker()
	cfg.BrokerName = "idle"
	cfg.ListenPort = port
	cfg.HAListenPort = port + 1
	cfg.BindAddress = "127.0.0.1"
	cfg.BrokerIP1 = "127.0.0.1"
	cfg.NamesrvAddr = ""
	cfg.StorePathRootDir = t.TempDir()
	cfg.StorePathCommitLog = ""
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := New(cfg, zerolog.Nop())
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return b.Addr()
}

// invokeOK sends one request and requires SUCCESS. Any goroutine.
func invokeOK(t *testing.T, c *netio.Client, addr string, cmd *remoting.Command) *remoting.Command {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	resp, err := c.Invoke(ctx, addr, cmd)
	if err != nil || resp.Code != remoting.RespSuccess {
		t.Errorf("request %d: %v %+v", cmd.Code, err, resp)
		return nil
	}
	return resp
}

func createTopic(t *testing.T, c *netio.Client, addr, topic string) {
	n := strconv.Itoa(idleQueuesPerTopic)
	invokeOK(t, c, addr, remoting.NewRequest(remoting.ReqUpdateAndCreateTopic, map[string]string{
		"topic": topic, "defaultTopic": "TBW102", "readQueueNums": n, "writeQueueNums": n, "perm": "6",
		"topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
	}, nil))
}

func sendOne(t *testing.T, c *netio.Client, addr, topic string, queueID int) {
	invokeOK(t, c, addr, remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "PG_idle", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "8",
		"queueId": strconv.Itoa(queueID), "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag": "0", "properties": "", "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
	}, []byte("idle")))
}

func maxOffset(t *testing.T, c *netio.Client, addr, topic string, queueID int) int64 {
	resp := invokeOK(t, c, addr, remoting.NewRequest(remoting.ReqGetMaxOffset, map[string]string{
		"topic": topic, "queueId": strconv.Itoa(queueID),
	}, nil))
	if resp == nil {
		return -1
	}
	n, _ := strconv.ParseInt(resp.ExtFields["offset"], 10, 64)
	return n
}

// settledGoroutines is the goroutine count (idle actorsys.Hot pool workers
// left out, so that their coming and going does not move the base) once it
// stopped falling (actors that just processed a message return their
// goroutine when their mailbox empties), or after two seconds.
func settledGoroutines() int {
	n := testkit.Goroutines()
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		m := testkit.Goroutines()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// liveTimers counts timer objects in the heap profile that survived GC.
// The profile lags up to two GC cycles, hence three.
func liveTimers() int64 {
	for range 3 {
		runtime.GC()
	}
	n, _ := runtime.MemProfile(nil, true)
	var recs []runtime.MemProfileRecord
	for {
		recs = make([]runtime.MemProfileRecord, n+64)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	var live int64
	for i := range recs {
		if recs[i].InUseObjects() == 0 {
			continue
		}
		frames := runtime.CallersFrames(recs[i].Stack())
		for {
			f, more := frames.Next()
			if isTimerConstructor(f.Function) {
				live += recs[i].InUseObjects()
				break
			}
			if !more {
				break
			}
		}
	}
	return live
}

func isTimerConstructor(fn string) bool {
	name, ok := strings.CutPrefix(fn, "time.")
	return ok && (name == "AfterFunc" || name == "NewTimer" || name == "NewTicker" || name == "After" || name == "Tick")
}
