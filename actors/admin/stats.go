package admin

import (
	"time"

	"github.com/actormq/actormq/actors/queue"
)

// Statistics behind the TPS figures and the daily totals. The queue
// registry counts messages (stored, pulled, pulled per group and topic);
// the admin actor samples those counters every SampleInterval and keeps
// enough samples for Java's windows: putTps and getTransferredTps over 10 s,
// 60 s and 600 s ("a b c"), consumeTps over the last minute. A rate is taken
// between the live counters and the newest sample at least a window old (or
// the oldest one, at the start), so it is fresh at every request.
//
// Java's "morning" totals (msgPutTotalTodayMorning, ...) are the counters as
// they were at the last local midnight; the first sample of a new day moves
// today's into yesterday's. Both are 0 until the broker has seen a midnight,
// as in Java.
const (
	tpsWindowMax   = 600 * time.Second
	consumeTpsSpan = time.Minute
)

// sample is the counters at one moment.
type sample struct {
	at         time.Time
	puts, gets int64
	groupGets  map[queue.GroupTopic]int64 // nil once no consumeTps window needs it
}

// stats is owned by the admin actor.
type stats struct {
	counters Counters
	boot     time.Time
	samples  []sample // oldest first
	day      int      // local year-day of the last sample
	// Morning totals: {puts, gets} at the last two local midnights.
	todayMorning, yesterdayMorning [2]int64
}

func newStats(now time.Time, c Counters) *stats {
	s := &stats{counters: c, boot: now, day: now.YearDay()}
	s.sample(now)
	return s
}

// sample records the counters at now and drops what no window needs.
func (s *stats) sample(now time.Time) {
	cur := s.current(now)
	if now.YearDay() != s.day {
		s.day = now.YearDay()
		s.yesterdayMorning = s.todayMorning
		s.todayMorning = [2]int64{cur.puts, cur.gets}
	}
	s.samples = append(s.samples, cur)
	// Of the samples older than a window only the newest one is used.
	for len(s.samples) > 1 && now.Sub(s.samples[1].at) >= tpsWindowMax {
		s.samples = s.samples[1:]
	}
	for i := 0; i+1 < len(s.samples) && now.Sub(s.samples[i+1].at) >= consumeTpsSpan; i++ {
		s.samples[i].groupGets = nil
	}
}

// current reads the live counters.
func (s *stats) current(now time.Time) sample {
	cur := sample{at: now, puts: s.counters.Puts(), gets: s.counters.Gets(), groupGets: map[queue.GroupTopic]int64{}}
	s.counters.GroupGets(func(k queue.GroupTopic, n int64) { cur.groupGets[k] = n })
	return cur
}

// base returns the newest sample at least window old, else the oldest.
func (s *stats) base(now time.Time, window time.Duration) sample {
	b := s.samples[0]
	for _, x := range s.samples {
		if now.Sub(x.at) >= window {
			b = x
		}
	}
	return b
}

// rate is (cur - old) per second between two moments; 0 without elapsed time.
func rate(cur, old int64, from, to time.Time) float64 {
	secs := to.Sub(from).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(cur-old) / secs
}

// tps returns the put and get rates over 10 s, 60 s and 600 s.
func (s *stats) tps(now time.Time) (puts, gets [3]float64) {
	curPuts, curGets := s.counters.Puts(), s.counters.Gets()
	for i, w := range []time.Duration{10 * time.Second, time.Minute, tpsWindowMax} {
		b := s.base(now, w)
		puts[i] = rate(curPuts, b.puts, b.at, now)
		gets[i] = rate(curGets, b.gets, b.at, now)
	}
	return puts, gets
}

// consumeTps is the rate at which group pulled messages of topic over the
// last minute (Java's tpsGroupGetNums).
func (s *stats) consumeTps(now time.Time, group, topic string) float64 {
	k := queue.GroupTopic{Group: group, Topic: topic}
	var b sample
	for _, x := range s.samples {
		if x.groupGets == nil {
			continue
		}
		if b.at.IsZero() || now.Sub(x.at) >= consumeTpsSpan {
			b = x
		}
	}
	if b.at.IsZero() {
		return 0
	}
	return rate(s.counters.GroupGet(k), b.groupGets[k], b.at, now)
}
