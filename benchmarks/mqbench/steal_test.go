package main

import (
	"math"
	"testing"
)

func TestStealPercent(t *testing.T) {
	start, ok := parseCPUTimes([]byte("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 2 18 0 0\n"))
	if !ok || start.total != 1000 || start.steal != 35 {
		t.Fatalf("start = %+v, %v", start, ok)
	}
	end, ok := parseCPUTimes([]byte("cpu  300 0 150 1300 10 0 5 235 7 0\n"))
	if !ok || end.total != 2000 || end.steal != 235 {
		t.Fatalf("end = %+v, %v", end, ok)
	}
	if p, ok := stealPercent(start, end); !ok || math.Abs(p-20) > 1e-9 {
		t.Fatalf("stealPercent = %v, %v; want 20", p, ok)
	}
	if _, ok := stealPercent(end, start); ok {
		t.Fatal("stealPercent of a backwards interval succeeded")
	}
	if _, ok := stealPercent(cpuTimes{}, end); ok {
		t.Fatal("stealPercent without a start reading succeeded")
	}
	if _, ok := stealPercent(start, cpuTimes{}); ok {
		t.Fatal("stealPercent without an end reading succeeded")
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 3 4 5 6 7 x\n"} {
		if _, ok := parseCPUTimes([]byte(bad)); ok {
			t.Errorf("parseCPUTimes(%q) succeeded", bad)
		}
	}
	if readCPUTimes().total == 0 {
		t.Skip("no /proc/stat here")
	}
}
