package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/testkit/netkit"
	"github.com/actormq/actormq/storage/commitlog"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/rs/zerolog"
)

const t0 = int64(1_700_000_000_000)

// fixture is an Indexer over a real commit log, served by a netio server.
type fixture struct {
	t             *testing.T
	root          string // storePathRootDir
	clog          *commitlog.CommitLog
	flushInterval time.Duration
	logs          *logBuffer // every run's log lines
	x             *Indexer
	feed          Dispatcher
	next          *recordingDispatcher
	invoke        func(*remoting.Command) *remoting.Command
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
	root, logDir  string        // default: new temp dirs
	disabled      bool          // messageIndexEnable=false
	segmentBytes  int64         // commit-log segment size, default 64 KiB
	flushInterval time.Duration // default: Config's
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
	f := &fixture{t: t, root: o.root, clog: clog, flushInterval: o.flushInterval, logs: &logBuffer{}, next: &recordingDispatcher{}}
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
	x, err := Spawn(testkit.ActorSystem(f.t), Config{Broker: b, CommitLog: f.clog, FlushInterval: f.flushInterval,
		Logger: zerolog.New(f.logs)})
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

// encode returns r as a record for the commit log (queue offset, physical
// offset and store time are set by Append).
func (r rec) encode() []byte {
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
	return message.AppendRecord(nil, &m)
}

// appendRec appends r to the commit log and returns its offset; the index
// learns of it only through the feed (dispatch) or a catch-up.
func (f *fixture) appendRec(r rec) int64 {
	f.t.Helper()
	off, err := f.clog.Append(r.encode(), 0, r.ts)
	if err != nil {
		f.t.Fatalf("Append: %v", err)
	}
	return off
}

// send appends r and hands the index a batch that is not Complete, as the
// writer does after a failed commit: the actor reads the record.
func (f *fixture) send(r rec) int64 {
	f.t.Helper()
	if _, ok := f.feed.(writer.Indexer); !ok { // the index is disabled
		off := f.appendRec(r)
		f.feed.Dispatch(store.QueueKey{Topic: r.topic}, []queue.Unit{{PhysOffset: off}})
		return off
	}
	return f.sendBatch(false, r)[0]
}

// sendBatch appends rs as one group commit and hands the index its batch,
// as the writer does: Complete, with the keys the topic actors compute
// (storeindex.EachKeyHash), so that the actor reads nothing; or not, so
// that it reads the records. ROLLBACK-typed records, which the topic
// actors never write, get no keys, as the scan skips them.
func (f *fixture) sendBatch(complete bool, rs ...rec) []int64 {
	f.t.Helper()
	b := &writer.IndexBatch{From: f.clog.WrotePosition(), Complete: complete, Last: -1}
	offs := make([]int64, len(rs))
	for i, r := range rs {
		off := f.appendRec(r)
		offs[i] = off
		if complete && message.TransactionType(r.sysFlag) != message.TransactionRollback {
			storeindex.EachKeyHash(r.topic, r.uniq, r.keys, func(h int32) {
				b.Keys = append(b.Keys, storeindex.Key{Hash: h, Phys: off, StoreTimestamp: r.ts})
			})
		}
		f.feed.Dispatch(store.QueueKey{Topic: r.topic}, []queue.Unit{{PhysOffset: off}})
		b.Last, b.LastTimestamp = off, r.ts
	}
	b.To = f.clog.WrotePosition()
	f.feed.(writer.Indexer).Index(b)
	return offs
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

// lastUpdatePhyOffset is the index end QUERY_MESSAGE reports
// (indexLastUpdatePhyoffset).
func (f *fixture) lastUpdatePhyOffset() int64 {
	f.t.Helper()
	resp, _ := f.query("T", "none", 1, 0, 1, false)
	v, err := strconv.ParseInt(resp.ExtFields["indexLastUpdatePhyoffset"], 10, 64)
	if err != nil {
		f.t.Fatalf("indexLastUpdatePhyoffset: %v", err)
	}
	return v
}

// logBuffer collects log lines from the actor's goroutines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, string(p))
	return len(p), nil
}

// field returns the integer field of every line whose message is msg, in
// order.
func (b *logBuffer) field(t *testing.T, msg, field string) []int64 {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int64
	for _, line := range b.lines {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["message"] != msg {
			continue
		}
		n, err := m[field].(json.Number).Int64()
		if err != nil {
			t.Fatalf("log line %q: field %s: %v", line, field, err)
		}
		out = append(out, n)
	}
	return out
}

// copyDir copies the files under src to dst, as they are in the page
// cache: what a kill -9 of the process writing them would leave.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
