package proc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/crashpoint"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestCrashPointsKillTheBroker arms each crash point in a real broker, does
// what reaches it, and checks that the broker died by SIGKILL right there
// (its own stderr line) and that a restart recovers every acknowledged
// message, plus the ones the crash left whole in the page cache.
func TestCrashPointsKillTheBroker(t *testing.T) {
	for _, tc := range []struct {
		point string
		n     int
		props map[string]string
		// load sends until the broker dies; it returns the messages
		// acknowledged before the crash and the ones sent in the crashing
		// request.
		load func(t *testing.T, c *netio.Client, addr string) (acked, inCrash int64)
		// want is the queue's max offset after the restart.
		want func(acked, inCrash int64) int64
	}{
		{
			point: crashpoint.WriterMidGroupCommit, n: 3,
			load: sendUntilDead(1),
			// Appended to the mapped segment before the kill: the page cache
			// keeps it and recovery finds it.
			want: func(acked, inCrash int64) int64 { return acked + inCrash },
		},
		{
			// The dispatch may run after the batch was acknowledged: a
			// second request would race the kill, so only one is sent.
			point: crashpoint.QueueMidDispatch, n: 1,
			load: sendOnce(3), // a batch: one dispatch of 3 units
			want: func(acked, inCrash int64) int64 { return acked + inCrash },
		},
		{
			// Segment 2 is created for the record that did not fit in
			// segment 1; the kill comes before that record is written.
			point: crashpoint.CommitLogMidRoll, n: 2,
			props: map[string]string{"mapedFileSizeCommitLog": strconv.Itoa(256 << 10)},
			load:  sendUntilDead(1),
			want:  func(acked, inCrash int64) int64 { return acked },
		},
	} {
		t.Run(tc.point, func(t *testing.T) {
			props := map[string]string{"flushDiskType": "SYNC_FLUSH"}
			for k, v := range tc.props {
				props[k] = v
			}
			_, br := startCluster(t, Options{Props: props, Env: []string{crashpoint.Env(tc.point, tc.n)}})
			c := netio.NewClient(netio.ClientConfig{})
			defer c.Close()
			acked, inCrash := tc.load(t, c, br.Addr())
			e, err := br.Wait(testkit.Context(t))
			if err != nil || !e.Killed() {
				t.Fatalf("broker ended with %v, %v; want SIGKILL", e, err)
			}
			wantLine := "crashpoint: " + tc.point + " hit " + strconv.Itoa(tc.n) + ": SIGKILL"
			if log, _ := os.ReadFile(br.LogPath()); !bytes.Contains(log, []byte(wantLine)) {
				t.Fatalf("log lacks %q", wantLine)
			}

			br.SetEnv(nil)
			if err := br.Restart(testkit.ContextWithin(t, startTimeout)); err != nil {
				t.Fatal(err)
			}
			if got, want := maxOffset(t, c, br.Addr()), tc.want(acked, inCrash); got != want {
				t.Fatalf("after the restart the queue holds %d messages, want %d (%d acknowledged, %d in the crash)",
					got, want, acked, inCrash)
			}
			if resp, err := c.Invoke(testkit.Context(t), br.Addr(), sendRequest(1, 100)); err != nil || resp.Code != remoting.RespSuccess {
				t.Fatalf("send after the restart: %v %+v", err, resp)
			}
		})
	}
}

// TestCrashPointDuringConfigWrite kills the broker in its first config
// write, which comes during start (topics.json with the system topics).
func TestCrashPointDuringConfigWrite(t *testing.T) {
	ctx := testkit.ContextWithin(t, startTimeout)
	br, err := StartBroker(ctx, Options{Dir: t.TempDir(), Env: []string{crashpoint.Env(crashpoint.MetadataMidWrite, 1)}})
	if !errors.Is(err, ErrNotReady) || br == nil {
		t.Fatalf("start through a crash point = %v, %v; want ErrNotReady and the Proc", br, err)
	}
	t.Cleanup(func() { _, _ = br.Kill9() })
	if e, _ := br.Exited(); !e.Killed() {
		t.Fatalf("broker ended with %v, want SIGKILL", e)
	}
	// Killed between the two renames: only the .tmp of the first version.
	cfgDir := filepath.Join(br.Dir(), "store", "config")
	names := testkit.DirNames(t, cfgDir)
	if len(names) != 1 || !strings.HasSuffix(names[0], ".json.tmp") {
		t.Fatalf("config dir holds %v, want one .json.tmp", names)
	}
	br.SetEnv(nil)
	if err := br.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c := netio.NewClient(netio.ClientConfig{})
	defer c.Close()
	if resp, err := c.Invoke(testkit.Context(t), br.Addr(), sendRequest(1, 100)); err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("send after the restart: %v %+v", err, resp)
	}
}

const crashTopic = "CrashTopic"

// sendUntilDead returns a load that sends requests of batch messages (a
// SEND_BATCH_MESSAGE when batch > 1) of 16 KiB each to queue 0 until one
// fails because the broker died.
func sendUntilDead(batch int) func(t *testing.T, c *netio.Client, addr string) (int64, int64) {
	return func(t *testing.T, c *netio.Client, addr string) (int64, int64) {
		t.Helper()
		var acked int64
		for range 1000 {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
			resp, err := c.Invoke(ctx, addr, sendRequest(batch, 16<<10))
			cancel()
			if err != nil {
				return acked, int64(batch)
			}
			if resp.Code != remoting.RespSuccess {
				t.Fatalf("send: code %d %s", resp.Code, resp.Remark)
			}
			acked += int64(batch)
		}
		t.Fatal("the broker did not crash")
		return 0, 0
	}
}

// sendOnce sends one request of batch messages and returns them as
// acknowledged or, when the broker died before answering, as in the crash.
func sendOnce(batch int) func(t *testing.T, c *netio.Client, addr string) (int64, int64) {
	return func(t *testing.T, c *netio.Client, addr string) (int64, int64) {
		t.Helper()
		resp, err := c.Invoke(testkit.Context(t), addr, sendRequest(batch, 16<<10))
		if err != nil {
			return 0, int64(batch)
		}
		if resp.Code != remoting.RespSuccess {
			t.Fatalf("send: code %d %s", resp.Code, resp.Remark)
		}
		return int64(batch), 0
	}
}

// sendRequest is a SEND_MESSAGE of one message, or with batch > 1 a
// SEND_BATCH_MESSAGE (which takes the V2 short header keys only), of
// size-byte bodies for queue 0 of crashTopic.
func sendRequest(batch, size int) *remoting.Command {
	born := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if batch == 1 {
		return remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
			"producerGroup": "PG_crash", "topic": crashTopic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "1",
			"queueId": "0", "sysFlag": "0", "bornTimestamp": born,
			"flag": "0", "properties": "", "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
		}, make([]byte, size))
	}
	items := make([]message.BatchItem, batch)
	for i := range items {
		items[i] = message.BatchItem{Body: make([]byte, size)}
	}
	return remoting.NewRequest(remoting.ReqSendBatchMessage, map[string]string{
		"a": "PG_crash", "b": crashTopic, "c": "TBW102", "d": "1", "e": "0", "f": "0", "g": born,
		"h": "0", "i": "", "j": "0", "k": "false", "l": "0", "m": "true",
	}, message.EncodeBatch(items))
}

func maxOffset(t *testing.T, c *netio.Client, addr string) int64 {
	t.Helper()
	resp, err := c.Invoke(testkit.Context(t), addr, remoting.NewRequest(remoting.ReqGetMaxOffset,
		map[string]string{"topic": crashTopic, "queueId": "0"}, nil))
	if err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("GET_MAX_OFFSET: %v %+v", err, resp)
	}
	n, err := strconv.ParseInt(resp.ExtFields["offset"], 10, 64)
	if err != nil {
		t.Fatalf("GET_MAX_OFFSET offset %q: %v", resp.ExtFields["offset"], err)
	}
	return n
}
