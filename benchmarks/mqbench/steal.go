package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// cpuTimes is the machine's CPU time so far, from the "cpu" line of
// /proc/stat (clock ticks summed over all CPUs).
type cpuTimes struct {
	total, steal uint64
}

// readCPUTimes reads /proc/stat; zero where it is missing or unreadable
// (not Linux), and the run then reports no steal figure.
func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	t, _ := parseCPUTimes(b)
	return t
}

// parseCPUTimes reads the aggregate line "cpu user nice system idle iowait
// irq softirq steal ...". Guest time is already counted in user and nice,
// so it is left out of the total.
func parseCPUTimes(stat []byte) (cpuTimes, bool) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 9 || string(fields[0]) != "cpu" {
			continue
		}
		var t cpuTimes
		for i, f := range fields[1:9] {
			v, err := strconv.ParseUint(string(f), 10, 64)
			if err != nil {
				return cpuTimes{}, false
			}
			t.total += v
			if i == 7 {
				t.steal = v
			}
		}
		return t, true
	}
	return cpuTimes{}, false
}

// stealPercent is the share of the machine's CPU time between start and
// end that the hypervisor gave to other guests (steal): while it is high,
// the broker and the generator both stop at moments neither chose, and
// latency tails say more about the host than about either of them. ok is
// false when either reading is missing (zero) or they run backwards.
func stealPercent(start, end cpuTimes) (float64, bool) {
	if start.total == 0 || end.total <= start.total || end.steal < start.steal {
		return 0, false
	}
	return 100 * float64(end.steal-start.steal) / float64(end.total-start.total), true
}
