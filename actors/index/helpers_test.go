package index

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

const t0 = int64(1_700_000_000_000)

// fixture is an Indexer over a real commit log, served by a netio server.
type fixture struct {
	t      *testing.T
	root   string // storePathRootDir
	clog   *commitlog.CommitLog
	x      *Indexer
	feed   Dispatcher
	next   *recordingDispatcher
	invoke func(*remoting.Command) *remoting.Command
}

// recordingDispatcher stands in for the queue registry.
type recordingDispatcher struct {
	mu    sync.Mutex
	units int
}

func (d *recordingDispatcher) Dispatch(_ store.QueueKey, units []queue.Unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.units += len(units)
}

func (d *recordingDispatcher) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.units
}

type fixtureOpts struct {
	root, logDir string // default: new temp dirs
	disabled     bool   // messageIndexEnable=false
	segmentBytes int64  // commit-log segment size, default 64 KiB
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	if o.root == "" {
		o.root = t.TempDir()
	}
	if o.logDir == "" {
		o.logDir = filepath.Join(o.root, "commitlog")
	}
	if o.segmentBytes == 0 {
		o.segmentBytes = 64 << 10
	}
	clog, err := commitlog.Open(commitlog.Config{Dir: o.logDir, FileSize: o.segmentBytes, CheckCRCOnRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clog.Recover(false, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = clog.Close() })
	f := &fixture{t: t, root: o.root, clog: clog, next: &recordingDispatcher{}}
	f.start(o.disabled)
	return f
}

// start spawns an Indexer on the fixture's store and serves its handlers.
func (f *fixture) start(disabled bool) {
	f.t.Helper()
	b := config.DefaultBroker()
	b.StorePathRootDir = f.root
	b.MessageIndexEnable = !disabled
	b.MaxHashSlotNum = 16
	b.MaxIndexNum = 8 // seven items per file: tests roll files
	b.DefaultQueryMaxNum = 32
	x, err := Spawn(testkit.ActorSystem(f.t), Config{Broker: b, CommitLog: f.clog})
	if err != nil {
		f.t.Fatalf("Spawn: %v", err)
	}
	f.t.Cleanup(func() { _ = x.Stop(context.Background()) })
	f.x = x
	f.feed = x.Feed(f.next)
	f.invoke = netkit.Invoker(f.t, &netkit.Router{Handlers: x.Handlers()})
}

// stop stops the Indexer (duty 5).
func (f *fixture) stop() {
	f.t.Helper()
	if err := f.x.Stop(testkit.Context(f.t)); err != nil {
		f.t.Fatal(err)
	}
}

// rec describes one record to append.
type rec struct {
	topic   string
	body    string
	keys    string // KEYS property, "" for none
	uniq    string // UNIQ_KEY property, "" for none
	ts      int64  // store timestamp
	sysFlag int32
}

// appendRec appends r to the commit log and returns its offset; the index
// learns of it only through the feed (dispatch) or a catch-up.
func (f *fixture) appendRec(r rec) int64 {
	f.t.Helper()
	props := ""
	if r.keys != "" {
		props += message.PropertyKeys + "\x01" + r.keys + "\x02"
	}
	if r.uniq != "" {
		props += message.PropertyUniqKey + "\x01" + r.uniq + "\x02"
	}
	m := message.Message{
		Topic: r.topic, Body: []byte(r.body), Properties: props, SysFlag: r.sysFlag,
		BornHost:  netip.MustParseAddrPort("127.0.0.1:40000"),
		StoreHost: netip.MustParseAddrPort("127.0.0.1:10911"),
	}
	off, err := f.clog.Append(message.AppendRecord(nil, &m), 0, r.ts)
	if err != nil {
		f.t.Fatalf("Append: %v", err)
	}
	return off
}

// send appends r and dispatches it through the feed, as the writer does.
func (f *fixture) send(r rec) int64 {
	f.t.Helper()
	off := f.appendRec(r)
	f.feed.Dispatch(store.QueueKey{Topic: r.topic}, []queue.Unit{{PhysOffset: off}})
	return off
}

// query sends QUERY_MESSAGE and returns the response and the bodies of the
// records in its body, in order.
func (f *fixture) query(topic, key string, maxNum int, begin, end int64, unique bool) (*remoting.Command, []string) {
	f.t.Helper()
	ext := map[string]string{
		"topic": topic, "key": key, "maxNum": strconv.Itoa(maxNum),
		"beginTimestamp": strconv.FormatInt(begin, 10), "endTimestamp": strconv.FormatInt(end, 10),
	}
	if unique {
		ext[uniqueKeyQueryFlag] = "true"
	}
	resp := f.invoke(remoting.NewRequest(remoting.ReqQueryMessage, ext, nil))
	return resp, decodeBodies(f.t, resp.Body)
}

// queryAll queries key over all time with maxNum 32.
func (f *fixture) queryAll(topic, key string) []string {
	f.t.Helper()
	_, bodies := f.query(topic, key, 32, 0, 1<<62, false)
	return bodies
}

func (f *fixture) view(offset int64) *remoting.Command {
	f.t.Helper()
	return f.invoke(remoting.NewRequest(remoting.ReqViewMessageByID,
		map[string]string{"offset": strconv.FormatInt(offset, 10)}, nil))
}

// decodeBodies decodes concatenated records (CRC checked).
func decodeBodies(t *testing.T, b []byte) []string {
	t.Helper()
	var bodies []string
	for len(b) > 0 {
		m, n, err := message.DecodeRecord(b, true)
		if err != nil {
			t.Fatalf("response body: %v", err)
		}
		bodies = append(bodies, string(m.Body))
		b = b[n:]
	}
	return bodies
}

func fmtBodies(b []string) string { return fmt.Sprintf("%q", b) }
