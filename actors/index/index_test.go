package index

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/actors/writer"
	"github.com/actormq/actormq/internal/testkit"
	storeindex "github.com/actormq/actormq/storage/index"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestQueryByKey: a key query returns exactly the records of that topic
// carrying the key in KEYS or UNIQ_KEY, in commit-log order: not another
// topic's, not a ROLLBACK-typed record's, not a hash collision's.
func TestQueryByKey(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.send(rec{topic: "T", body: "r1", keys: "a b", uniq: "U1", ts: t0})
	f.send(rec{topic: "T", body: "r2", keys: " b  ", uniq: "U2", ts: t0 + 1})
	f.send(rec{topic: "T2", body: "r3", keys: "a", ts: t0 + 2})
	f.send(rec{topic: "T", body: "r4", keys: "a", ts: t0 + 3, sysFlag: message.TransactionRollback})
	f.send(rec{topic: "T", body: "r5", keys: "Aa", ts: t0 + 4}) // "T#Aa" and "T#BB" hash alike
	last := f.send(rec{topic: "T", body: "r6", keys: "a", sysFlag: message.TransactionCommit, ts: t0 + 5})
	if f.next.count() != 6 {
		t.Fatalf("the feed passed %d units on, want 6", f.next.count())
	}
	testkit.Eventually(t, "r6 indexed", func() bool { return slices.Equal(f.queryAll("T", "a"), []string{"r1", "r6"}) })

	for _, tc := range []struct {
		topic, key string
		want       []string
	}{
		{topic: "T", key: "b", want: []string{"r1", "r2"}},
		{topic: "T", key: "U2", want: []string{"r2"}},
		{topic: "T2", key: "a", want: []string{"r3"}},
		{topic: "T", key: "Aa", want: []string{"r5"}},
		{topic: "T", key: "BB", want: nil},
		{topic: "T", key: "missing", want: nil},
	} {
		resp, bodies := f.query(tc.topic, tc.key, 32, 0, 1<<62, false)
		if !slices.Equal(bodies, tc.want) {
			t.Errorf("query %s#%s = %s, want %s", tc.topic, tc.key, fmtBodies(bodies), fmtBodies(tc.want))
		}
		wantCode := remoting.RespSuccess
		if tc.want == nil {
			wantCode = remoting.RespQueryNotFound
		}
		if resp.Code != wantCode {
			t.Errorf("query %s#%s: code %d (%s), want %d", tc.topic, tc.key, resp.Code, resp.Remark, wantCode)
		}
		if resp.ExtFields["indexLastUpdatePhyoffset"] != strconv.FormatInt(last, 10) ||
			resp.ExtFields["indexLastUpdateTimestamp"] != strconv.FormatInt(t0+5, 10) {
			t.Errorf("query %s#%s: header %v, want the newest item %d at %d", tc.topic, tc.key, resp.ExtFields, last, t0+5)
		}
	}
}

func TestQueryTimeRangeAndLimits(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for i := 0; i < 5; i++ { // stored 10 s apart
		f.send(rec{topic: "T", body: "m" + strconv.Itoa(i), keys: "k", uniq: "U" + strconv.Itoa(i), ts: t0 + int64(i)*10_000})
	}
	testkit.Eventually(t, "all indexed", func() bool { return len(f.queryAll("T", "k")) == 5 })
	for _, tc := range []struct {
		name       string
		key        string
		maxNum     int
		begin, end int64
		unique     bool
		want       []string
	}{
		{name: "newer than 25 s", key: "k", maxNum: 32, begin: t0 + 25_000, end: 1 << 62, want: []string{"m3", "m4"}},
		{name: "a window", key: "k", maxNum: 32, begin: t0 + 10_000, end: t0 + 20_000, want: []string{"m1", "m2"}},
		{name: "maxNum keeps the newest", key: "k", maxNum: 2, begin: 0, end: 1 << 62, want: []string{"m3", "m4"}},
		{name: "maxNum 0", key: "k", maxNum: 0, begin: 0, end: 1 << 62, want: nil},
		{name: "unique-key query ignores maxNum", key: "U1", maxNum: 0, begin: 0, end: 1 << 62, unique: true, want: []string{"m1"}},
		{name: "range before everything", key: "k", maxNum: 32, begin: 0, end: t0 - 1, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, bodies := f.query("T", tc.key, tc.maxNum, tc.begin, tc.end, tc.unique)
			if !slices.Equal(bodies, tc.want) {
				t.Fatalf("bodies %s, want %s (code %d %s)", fmtBodies(bodies), fmtBodies(tc.want), resp.Code, resp.Remark)
			}
		})
	}
}

func TestViewByOffset(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.send(rec{topic: "T", body: "first", ts: t0})
	second := f.send(rec{topic: "T", body: "second", ts: t0})
	resp := f.view(second)
	if resp.Code != remoting.RespSuccess {
		t.Fatalf("view %d: code %d %s", second, resp.Code, resp.Remark)
	}
	m, n, err := message.DecodeRecord(resp.Body, true)
	if err != nil || n != len(resp.Body) || string(m.Body) != "second" || m.PhysicalOffset != second {
		t.Fatalf("view body: %q at %d, %d of %d bytes, %v", m.Body, m.PhysicalOffset, n, len(resp.Body), err)
	}
	for _, off := range []int64{second + 1, -5, 1 << 40, f.clog.WrotePosition()} {
		resp := f.view(off)
		want := "can not find message by the offset, " + strconv.FormatInt(off, 10)
		if resp.Code != remoting.RespSystemError || resp.Remark != want || len(resp.Body) != 0 {
			t.Errorf("view %d: code %d %q, %d body bytes; want SYSTEM_ERROR %q", off, resp.Code, resp.Remark, len(resp.Body), want)
		}
	}
	resp = f.invoke(remoting.NewRequest(remoting.ReqViewMessageByID, map[string]string{"offset": "x"}, nil))
	if resp.Code != remoting.RespSystemError {
		t.Fatalf("view with a bad offset field: code %d", resp.Code)
	}
	resp = f.invoke(remoting.NewRequest(remoting.ReqQueryMessage, map[string]string{"topic": "T"}, nil))
	if resp.Code != remoting.RespSystemError {
		t.Fatalf("query without key: code %d", resp.Code)
	}
}

// TestStartIndexesTheCommitLog: records appended while no index ran (a
// kill -9 between append and indexing, or an index directory deleted) are
// indexed at start, and a restart continues the files without duplicates.
func TestStartIndexesTheCommitLog(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, fixtureOpts{root: root})
	f.stop()
	for i := 0; i < 10; i++ { // more than one file's seven items
		f.appendRec(rec{topic: "T", body: "old" + strconv.Itoa(i), keys: "k", ts: t0 + int64(i)})
	}
	f.start(false)
	testkit.Eventually(t, "start-up catch-up", func() bool { return len(f.queryAll("T", "k")) == 10 })

	f.stop()
	f.appendRec(rec{topic: "T", body: "new", keys: "k", ts: t0 + 100})
	f.start(false)
	want := []string{"old0", "old1", "old2", "old3", "old4", "old5", "old6", "old7", "old8", "old9", "new"}
	testkit.Eventually(t, "the new record indexed after the restart", func() bool {
		return slices.Equal(f.queryAll("T", "k"), want)
	})
	if names := testkit.DirNames(t, filepath.Join(root, "index")); len(names) != 2 {
		t.Fatalf("index files %v, want 2 (11 items, 7 per file)", names)
	}
}

// TestStopIndexesTheLastBatch: Stop indexes what the writer appended last
// even when no wake-up reached the actor.
func TestStopIndexesTheLastBatch(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, fixtureOpts{root: root})
	f.send(rec{topic: "T", body: "woken", keys: "k", ts: t0})
	testkit.Eventually(t, "woken indexed", func() bool { return len(f.queryAll("T", "k")) == 1 })
	f.appendRec(rec{topic: "T", body: "silent", keys: "k", ts: t0})
	f.stop()
	resp := f.invoke(remoting.NewRequest(remoting.ReqQueryMessage, map[string]string{
		"topic": "T", "key": "k", "maxNum": "32", "beginTimestamp": "0", "endTimestamp": "1"}, nil))
	if resp.Code != remoting.RespSystemError {
		t.Fatalf("query after Stop: code %d, want SYSTEM_ERROR", resp.Code)
	}
	x, err := storeindex.Open(storeindex.Config{Dir: filepath.Join(root, "index"), HashSlots: 16, MaxItems: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.Query("T", "k", 32, 0, 1<<62); len(got) != 2 {
		t.Fatalf("index files after Stop hold offsets %v, want both records", got)
	}
}

// TestIndexAheadOfTheCommitLog: after a power loss the index can hold
// items for records the commit log lost; start drops them, and the records
// written at those offsets next are indexed (not skipped as "below the end").
func TestIndexAheadOfTheCommitLog(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, fixtureOpts{root: root})
	for i := 0; i < 3; i++ {
		f.send(rec{topic: "T", body: "lost" + strconv.Itoa(i), keys: "k", ts: t0})
	}
	testkit.Eventually(t, "indexed", func() bool { return len(f.queryAll("T", "k")) == 3 })
	f.stop()

	// The same index directory over a commit log that lost everything.
	g := newFixture(t, fixtureOpts{root: root, logDir: filepath.Join(t.TempDir(), "commitlog")})
	if got := g.queryAll("T", "k"); got != nil {
		t.Fatalf("records of the lost log returned: %s", fmtBodies(got))
	}
	// The lost records sat at 0, 104 and 208 (104-byte records): a 149-byte
	// one puts the next record at 149, below the index's old end offset and
	// at no offset an old item names.
	filler := g.send(rec{topic: "T", body: strings.Repeat("f", 50), keys: "x", ts: t0})
	again := g.send(rec{topic: "T", body: "again", keys: "k", ts: t0})
	if filler != 0 || again != 149 {
		t.Fatalf("test premise: records at %d and %d, want 0 and 149", filler, again)
	}
	testkit.Eventually(t, "the new record below the old end offset indexed", func() bool {
		return slices.Equal(g.queryAll("T", "k"), []string{"again"})
	})
}

// TestDeleteBelowDropsExpiredFiles: after retention deleted commit-log
// segments, index files wholly below the new min offset go; the newest
// stays and answers.
func TestDeleteBelowDropsExpiredFiles(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, fixtureOpts{root: root, segmentBytes: 4096})
	for i := 0; i < 60; i++ { // ~110-byte records: two segments' worth, 9 index files
		f.send(rec{topic: "T", body: "m" + strconv.Itoa(i), keys: "k" + strconv.Itoa(i), ts: t0})
	}
	testkit.Eventually(t, "all indexed", func() bool { return len(f.queryAll("T", "k59")) == 1 })
	dir := filepath.Join(root, "index")
	before := len(testkit.DirNames(t, dir))
	if _, err := f.clog.DeleteExpiredFiles(time.Now(), true, 1); err != nil {
		t.Fatal(err)
	}
	min := f.clog.MinOffset()
	f.x.DeleteBelow(min)
	testkit.Eventually(t, "index files deleted", func() bool { return len(testkit.DirNames(t, dir)) < before })
	if got := f.queryAll("T", "k0"); got != nil {
		t.Fatalf("a deleted record is returned: %s", fmtBodies(got))
	}
	if got := f.queryAll("T", "k59"); !slices.Equal(got, []string{"m59"}) {
		t.Fatalf("newest record: %s", fmtBodies(got))
	}
}

// TestQueriesInFlightBounded: beyond queriesInFlightMax waiting queries
// and views the handlers answer SYSTEM_BUSY at once.
func TestQueriesInFlightBounded(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	off := f.send(rec{topic: "T", body: "x", keys: "k", ts: t0})
	f.x.inFlight.Store(queriesInFlightMax)
	if resp, _ := f.query("T", "k", 32, 0, 1<<62, false); resp.Code != remoting.RespSystemBusy {
		t.Fatalf("query over the bound: code %d", resp.Code)
	}
	if resp := f.view(off); resp.Code != remoting.RespSystemBusy {
		t.Fatalf("view over the bound: code %d", resp.Code)
	}
	f.x.inFlight.Store(queriesInFlightMax - 1)
	if resp := f.view(off); resp.Code != remoting.RespSuccess {
		t.Fatalf("view within the bound: code %d", resp.Code)
	}
	testkit.Eventually(t, "the answered view no longer in flight", func() bool {
		return f.x.inFlight.Load() == queriesInFlightMax-1
	})
}

func TestDisabledIndexStillViews(t *testing.T) {
	f := newFixture(t, fixtureOpts{disabled: true})
	if f.feed != Dispatcher(f.next) {
		t.Fatal("Feed wrapped the dispatcher with the index disabled")
	}
	off := f.send(rec{topic: "T", body: "x", keys: "k", ts: t0})
	resp, _ := f.query("T", "k", 32, 0, 1<<62, false)
	if resp.Code != remoting.RespQueryNotFound || resp.ExtFields["indexLastUpdatePhyoffset"] != "0" {
		t.Fatalf("query with the index off: code %d, header %v", resp.Code, resp.ExtFields)
	}
	if resp := f.view(off); resp.Code != remoting.RespSuccess {
		t.Fatalf("view with the index off: code %d", resp.Code)
	}
	if names := testkit.DirNames(t, f.root); slices.Contains(names, "index") {
		t.Fatalf("index directory created with the index off: %v", names)
	}
}

// TestFeedAllocatesNothing: the writer pays for the index one Send of its
// (pooled) IndexBatch per group commit, and the feed's Dispatch nothing
// beyond the queue registry's.
func TestFeedAllocatesNothing(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	key, units := store.QueueKey{Topic: "T"}, []queue.Unit{{}}
	if n := testing.AllocsPerRun(100, func() { f.feed.Dispatch(key, units) }); n != 0 {
		t.Errorf("Dispatch allocates %v times", n)
	}
	if f.next.count() != 101 { // AllocsPerRun adds a warm-up run
		t.Fatalf("next dispatcher got %d units, want 101", f.next.count())
	}
	ix := f.feed.(writer.Indexer)
	end := f.clog.WrotePosition()
	batches := make([]*writer.IndexBatch, 101)
	for i := range batches {
		batches[i] = &writer.IndexBatch{From: end, To: end, Complete: true, Last: -1}
	}
	i := 0
	if n := testing.AllocsPerRun(100, func() { ix.Index(batches[i]); i++ }); n != 0 {
		t.Errorf("Index allocates %v times", n)
	}
}

// targetRecorder is a TargetDispatcher that records the handles it gets.
type targetRecorder struct {
	recordingDispatcher
	handle *queue.DispatchTarget
	to     []*queue.DispatchTarget
}

func (d *targetRecorder) DispatchTarget(store.QueueKey) *queue.DispatchTarget { return d.handle }

func (d *targetRecorder) DispatchTo(t *queue.DispatchTarget, units []queue.Unit) {
	d.to = append(d.to, t)
	d.Dispatch(store.QueueKey{}, units)
}

// TestFeedPassesDispatchTargets: the feed of a TargetDispatcher is one too,
// passes the handles through and hands the actor IndexBatches as the feed
// of a plain Dispatcher does; the feed of a plain Dispatcher offers no
// handles (the writer then uses Dispatch).
func TestFeedPassesDispatchTargets(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	if _, ok := f.feed.(TargetDispatcher); ok {
		t.Fatal("feed of a plain Dispatcher offers handles")
	}
	next := &targetRecorder{handle: &queue.DispatchTarget{}}
	td, ok := f.x.Feed(next).(TargetDispatcher)
	if !ok {
		t.Fatal("feed of a TargetDispatcher offers no handles")
	}
	h := td.DispatchTarget(store.QueueKey{Topic: "T"})
	off := f.appendRec(rec{topic: "T", body: "x", keys: "k", ts: t0})
	td.DispatchTo(h, []queue.Unit{{PhysOffset: off}})
	td.(writer.Indexer).Index(&writer.IndexBatch{From: off, To: f.clog.WrotePosition(), Last: off, LastTimestamp: t0})
	if len(next.to) != 1 || next.to[0] != next.handle || next.count() != 1 {
		t.Fatalf("next got handles %v and %d units", next.to, next.count())
	}
	testkit.Eventually(t, "the index actor indexed the record", func() bool {
		return slices.Equal(f.queryAll("T", "k"), []string{"x"})
	})
}
