// Package cluster runs the NameServer and broker a sim run drives, in one
// of two modes behind one interface:
//
//   - InProc: both in this process, the broker's store on a faultfs.FS
//     (disk faults, and power cuts: Crash keeps only synced data and the
//     broker restarts on that image);
//   - Proc: real mqnamesrv and mqbroker processes (sim/proc), killed with
//     SIGKILL (the page cache survives, as after a process crash) or at a
//     named crash point (internal/crashpoint).
//
// Both run the broker with the same properties (Props): SYNC_FLUSH, small
// CommitLog segments and consume-queue files (many rolls in a short run),
// consumer offsets persisted every second, no forced deletion of unexpired
// files (the checker demands every acknowledged message back).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/sim/check"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// Broker names and sizes every sim broker runs with.
const (
	BrokerName     = "sim-broker"
	ClusterName    = "SimCluster"
	CommitLogBytes = 64 << 10
	cqFileBytes    = 1000 * 20
	// OffsetFlush is flushConsumerOffsetInterval.
	OffsetFlush = time.Second
)

// Props are the broker properties of a sim run (besides ports, paths and
// namesrvAddr, which each mode sets).
func Props() map[string]string {
	return map[string]string{
		"brokerClusterName":           ClusterName,
		"brokerName":                  BrokerName,
		"brokerId":                    "0",
		"brokerRole":                  "ASYNC_MASTER",
		"flushDiskType":               "SYNC_FLUSH",
		"bindAddress":                 "127.0.0.1",
		"brokerIP1":                   "127.0.0.1",
		"mapedFileSizeCommitLog":      strconv.Itoa(CommitLogBytes),
		"mapedFileSizeConsumeQueue":   strconv.Itoa(cqFileBytes),
		"flushConsumerOffsetInterval": strconv.FormatInt(OffsetFlush.Milliseconds(), 10),
		"maxHashSlotNum":              "1000",
		"maxIndexNum":                 "4000",
		"autoCreateTopicEnable":       "true",
		"autoCreateSubscriptionGroup": "true",
		"checkCRCOnRecover":           "true",
		"cleanFileForciblyEnable":     "false",
	}
}

// Way is how a broker stops: history.StopClean, StopKill or StopPowerCut.
type Way = string

// Cluster is a running NameServer and broker. Methods are for the driver's
// goroutine.
type Cluster interface {
	// BrokerAddr and NamesrvAddr are where they serve (stable across
	// restarts).
	BrokerAddr() string
	NamesrvAddr() string
	// Stop stops the broker the given way and calls down at the moment
	// it stopped: before a clean shutdown begins, after a killed process
	// is gone, right after a power cut (before the dead broker is shut
	// down). The ways a mode cannot do are refused with ErrUnsupported.
	Stop(ctx context.Context, way Way, down func()) error
	// Start starts the stopped broker again on its store and returns once
	// it has started (the driver then probes it).
	Start(ctx context.Context) error
	// Layout locates the store; read it only while the broker is stopped.
	Layout() check.Layout
	// FlipBit flips bit of the byte at off of the store file name (a path
	// from Layout) while the broker is stopped: a media error.
	FlipBit(name string, off int64, bit uint) error
	// Close stops everything (the broker cleanly if it runs).
	Close()
}

// ErrUnsupported is returned for a stop a mode cannot do.
var ErrUnsupported = errors.New("cluster: not supported in this mode")

// rpcTimeout bounds the driver's control requests.
const rpcTimeout = 2 * time.Second

// invoke sends one request and requires SUCCESS.
func invoke(ctx context.Context, c *netio.Client, addr string, cmd *remoting.Command) (*remoting.Command, error) {
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := c.Invoke(ctx, addr, cmd)
	if err != nil {
		return nil, err
	}
	if resp.Code != remoting.RespSuccess {
		return resp, fmt.Errorf("cluster: request %d answered %d: %s", cmd.Code, resp.Code, resp.Remark)
	}
	return resp, nil
}

// WaitServing probes addr with GET_MAX_OFFSET of topic queue 0 until it
// answers (any code: the broker serves), or ctx ends.
func WaitServing(ctx context.Context, c *netio.Client, addr, topic string) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := c.Invoke(rctx, addr, remoting.NewRequest(remoting.ReqGetMaxOffset, map[string]string{"topic": topic, "queueId": "0"}, nil))
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: %s does not serve: %w (last error %v)", addr, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CreateTopic creates topic with queues read and write queues on the
// broker and waits until the NameServer routes it.
func CreateTopic(ctx context.Context, c *netio.Client, broker, namesrv, topic string, queues int) error {
	n := strconv.Itoa(queues)
	ext := map[string]string{
		"topic": topic, "defaultTopic": body.DefaultTopic, "readQueueNums": n, "writeQueueNums": n,
		"perm": strconv.Itoa(int(body.PermRead | body.PermWrite)), "topicFilterType": "SINGLE_TAG",
		"topicSysFlag": "0", "order": "false",
	}
	if _, err := invoke(ctx, c, broker, remoting.NewRequest(remoting.ReqUpdateAndCreateTopic, ext, nil)); err != nil {
		return fmt.Errorf("cluster: create topic %s: %w", topic, err)
	}
	for {
		_, err := invoke(ctx, c, namesrv, remoting.NewRequest(remoting.ReqGetRouteInfoByTopic, map[string]string{"topic": topic}, nil))
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: topic %s is not routed by %s: %w", topic, namesrv, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// MaxOffsets asks GET_MAX_OFFSET of every queue of topic.
func MaxOffsets(ctx context.Context, c *netio.Client, broker, topic string, queues int) (map[int32]int64, error) {
	out := make(map[int32]int64, queues)
	for q := range int32(queues) {
		resp, err := invoke(ctx, c, broker, remoting.NewRequest(remoting.ReqGetMaxOffset,
			map[string]string{"topic": topic, "queueId": strconv.Itoa(int(q))}, nil))
		if err != nil {
			return nil, err
		}
		if out[q], err = strconv.ParseInt(resp.ExtFields["offset"], 10, 64); err != nil {
			return nil, fmt.Errorf("cluster: GET_MAX_OFFSET of queue %d: %w", q, err)
		}
	}
	return out, nil
}
