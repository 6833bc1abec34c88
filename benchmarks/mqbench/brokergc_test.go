package main

import (
	"encoding/json"
	"testing"

	"github.com/actormq/actormq/actors/admin/gchist"
)

// TestFillGC: the run's GC keys come from the difference of the broker's
// readings at start and end, not from the lifetime histogram.
func TestFillGC(t *testing.T) {
	start, err := readBrokerGC(map[string]string{"goGCPauses": "1000:5,4000000:3", "goGCCount": "4"})
	if err != nil || !start.ok {
		t.Fatal(start, err)
	}
	end, err := readBrokerGC(map[string]string{"goGCPauses": "1000:105,16000:4,4000000:3", "goGCCount": "58"})
	if err != nil {
		t.Fatal(err)
	}
	var res result
	fillGC(&res, start, end)
	if res.BrokerGCPauseP99Us == nil || *res.BrokerGCPauseP99Us != 16 || *res.BrokerGCPauseMaxUs != 16 || *res.BrokerGCCount != 54 {
		t.Errorf("run figures: %s", gcKeys(res))
	}
	if lifetime := gchist.Micros(end.pauses.Quantile(0.99)); lifetime != 4000 {
		t.Errorf("lifetime p99 %d µs", lifetime)
	}

	var none result // the broker did not say: no keys at all
	fillGC(&none, start, brokerGC{})
	if none.BrokerGCCount != nil || none.BrokerGCPauseP99Us != nil {
		t.Errorf("no end reading: %s", gcKeys(none))
	}
	quiet := result{} // no GC during the run: zeros, present
	fillGC(&quiet, end, end)
	if quiet.BrokerGCCount == nil || *quiet.BrokerGCCount != 0 || *quiet.BrokerGCPauseP99Us != 0 || *quiet.BrokerGCPauseMaxUs != 0 {
		t.Errorf("no GC in the run: %s", gcKeys(quiet))
	}
	restarted := result{} // cycles went down: the end reading's figures
	fillGC(&restarted, end, start)
	if restarted.BrokerGCCount == nil || *restarted.BrokerGCCount != 4 || *restarted.BrokerGCPauseMaxUs != 4000 {
		t.Errorf("broker restarted during the run: %s", gcKeys(restarted))
	}
	if g, err := readBrokerGC(map[string]string{"goGCCount": "3"}); err != nil || g.ok {
		t.Errorf("old broker without goGCPauses: %+v, %v", g, err)
	}
	if _, err := readBrokerGC(map[string]string{"goGCPauses": "1:x", "goGCCount": "3"}); err == nil {
		t.Error("bad goGCPauses accepted")
	}
}

func gcKeys(res result) string {
	b, _ := json.Marshal(struct{ P99, Max, Cycles *int64 }{res.BrokerGCPauseP99Us, res.BrokerGCPauseMaxUs, res.BrokerGCCount})
	return string(b)
}
