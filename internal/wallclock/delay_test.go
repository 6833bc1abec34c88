package wallclock_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/broker"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

const topic = "WallclockTopic"

// TestDelayedMessagesSurviveClockJumps sends delay-level messages around a
// backward and a forward jump of the wall clock in an in-process broker:
// each arrives on its real queue exactly once. m1 is stored before a 1 h
// backward jump (its delivery time is an hour "ahead" afterwards: the level
// caps it at one level delay), m2 under the backward clock and delivered
// after a 2 h forward jump (long past due), m3 after Reset.
func TestDelayedMessagesSurviveClockJumps(t *testing.T) {
	t.Cleanup(wallclock.Reset)
	addr, _ := startBroker(t, t.TempDir())
	c := netkit.Client(t, netio.ClientConfig{})

	sendDelayed(t, c, addr, 0)
	wallclock.Jump(-time.Hour)
	waitDelivered(t, c, addr, 0)

	sendDelayed(t, c, addr, 1)
	wallclock.Jump(2 * time.Hour)
	waitDelivered(t, c, addr, 1)

	wallclock.Reset()
	sendDelayed(t, c, addr, 2)
	waitDelivered(t, c, addr, 2)

	// The level reads its queue in order: once m3 is delivered, a second
	// delivery of m1 or m2 would already show here.
	for q := range 3 {
		if n := maxOffset(t, c, addr, q); n != 1 {
			t.Errorf("real queue %d holds %d messages, want 1", q, n)
		}
	}
}

// TestOverdueAfterForwardJumpAndRestart stores a message of the 1 h level,
// stops the broker, jumps the clock 2 h forward and starts a broker on the
// same store: the level finds the message overdue and delivers it at once.
// Read from time.Now instead of the seam, the level would wait another hour.
func TestOverdueAfterForwardJumpAndRestart(t *testing.T) {
	t.Cleanup(wallclock.Reset)
	dir := t.TempDir()
	addr, stop := startBroker(t, dir)
	c := netkit.Client(t, netio.ClientConfig{})
	sendDelayedLevel(t, c, addr, 0, 3)
	stop()

	wallclock.Jump(2 * time.Hour)
	addr, _ = startBroker(t, dir)
	waitDelivered(t, c, addr, 0)
	if n := maxOffset(t, c, addr, 0); n != 1 {
		t.Errorf("real queue 0 holds %d messages, want 1", n)
	}
}

// startBroker starts a broker on store dir with the levels 1s 2s 1h; stop
// shuts it down (also run at cleanup, once).
func startBroker(t *testing.T, dir string) (addr string, stop func()) {
	t.Helper()
	port := netkit.BrokerPort(t)
	cfg := config.DefaultBroker()
	cfg.BrokerName = "wallclock"
	cfg.ListenPort = port
	cfg.HAListenPort = port + 1
	cfg.BindAddress = "127.0.0.1"
	cfg.BrokerIP1 = "127.0.0.1"
	cfg.NamesrvAddr = ""
	cfg.StorePathRootDir = dir
	cfg.StorePathCommitLog = ""
	cfg.MessageDelayLevel = "1s 2s 1h"
	cfg.MapedFileSizeCommitLog = 8 << 20 // recovery reads the whole tail of the last segment
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := broker.New(cfg, zerolog.Nop())
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
			defer cancel()
			if err := b.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return b.Addr(), stop
}

// sendDelayed sends one message with delay level 1 for queue q of topic.
func sendDelayed(t *testing.T, c *netio.Client, addr string, q int) {
	t.Helper()
	sendDelayedLevel(t, c, addr, q, 1)
}

func sendDelayedLevel(t *testing.T, c *netio.Client, addr string, q, level int) {
	t.Helper()
	props := message.FormatProperties(map[string]string{message.PropertyDelay: strconv.Itoa(level)})
	req := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
		"producerGroup": "PG_wallclock", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
		"queueId": strconv.Itoa(q), "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag": "0", "properties": props, "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
	}, []byte("m"+strconv.Itoa(q)))
	if resp := netkit.Invoke(t, c, addr, req); resp.Code != remoting.RespSuccess {
		t.Fatalf("send to queue %d: code %d %s", q, resp.Code, resp.Remark)
	}
}

// waitDelivered waits until queue q of topic holds a message. Level 1 is
// 1 s; the bound leaves room for a loaded machine.
func waitDelivered(t *testing.T, c *netio.Client, addr string, q int) {
	t.Helper()
	testkit.Eventually(t, "delayed message on queue "+strconv.Itoa(q), func() bool {
		return maxOffset(t, c, addr, q) >= 1
	})
}

func maxOffset(t *testing.T, c *netio.Client, addr string, q int) int64 {
	t.Helper()
	resp := netkit.Invoke(t, c, addr, remoting.NewRequest(remoting.ReqGetMaxOffset,
		map[string]string{"topic": topic, "queueId": strconv.Itoa(q)}, nil))
	if resp.Code != remoting.RespSuccess {
		return 0 // the topic is created with the first delivery
	}
	n, err := strconv.ParseInt(resp.ExtFields["offset"], 10, 64)
	if err != nil {
		t.Fatalf("GET_MAX_OFFSET offset %q: %v", resp.ExtFields["offset"], err)
	}
	return n
}
