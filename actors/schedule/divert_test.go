package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

func TestDivert(t *testing.T) {
	levels := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second}
	const now = 1_700_000_000_000
	cases := []struct {
		name      string
		delay     string // DELAY property; "" for none
		diverted  bool
		wantQueue int32
		wantCode  int64
		wantDelay string
	}{
		{name: "level 2", delay: "2", diverted: true, wantQueue: 1, wantCode: now + 5000, wantDelay: "2"},
		{name: "above the highest level is clamped", delay: "40", diverted: true, wantQueue: 2, wantCode: now + 10000, wantDelay: "3"},
		{name: "no delay", delay: ""},
		{name: "level 0", delay: "0"},
		{name: "negative level", delay: "-1"},
		{name: "not a number", delay: "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props := map[string]string{message.PropertyTags: "a"}
			if c.delay != "" {
				props[message.PropertyDelay] = c.delay
			}
			m := message.Message{Topic: "T", QueueID: 6, Properties: message.FormatProperties(props)}
			before := m
			code, ok := Divert(&m, levels, now)
			if ok != c.diverted {
				t.Fatalf("diverted %v, want %v", ok, c.diverted)
			}
			if !ok {
				if fmt.Sprint(m) != fmt.Sprint(before) {
					t.Fatalf("message changed: %+v", m)
				}
				return
			}
			got := message.ParseProperties(m.Properties)
			want := map[string]string{message.PropertyTags: "a", message.PropertyDelay: c.wantDelay,
				message.PropertyRealTopic: "T", message.PropertyRealQueueID: "6"}
			if m.Topic != body.ScheduleTopic || m.QueueID != c.wantQueue || code != c.wantCode || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("diverted to %s/%d code %d properties %v; want queue %d code %d properties %v",
					m.Topic, m.QueueID, code, got, c.wantQueue, c.wantCode, want)
			}
		})
	}
}
