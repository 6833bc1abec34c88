package schedule

import (
	"errors"
	"fmt"
	"testing"

	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/message"
)

func TestRealMessage(t *testing.T) {
	props := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return message.FormatProperties(m)
	}
	cases := []struct {
		name      string
		props     string
		wantErr   bool
		wantQueue int32
		wantProps map[string]string
	}{
		{name: "delay and timer properties removed", props: props(
			"REAL_TOPIC", "T", "REAL_QID", "5", "DELAY", "3", "TAGS", "a", "TIMER_DELIVER_MS", "1",
			"TIMER_DELAY_SEC", "2", "TIMER_DELAY_MS", "3", "WAIT", "true"),
			wantQueue: 5, wantProps: map[string]string{"REAL_TOPIC": "T", "REAL_QID": "5", "TAGS": "a", "WAIT": "false"}},
		{name: "no real topic", props: props("REAL_QID", "1", "DELAY", "1"), wantErr: true},
		{name: "no real queue", props: props("REAL_TOPIC", "T", "DELAY", "1"), wantErr: true},
		{name: "negative real queue", props: props("REAL_TOPIC", "T", "REAL_QID", "-1"), wantErr: true},
		{name: "real queue not a number", props: props("REAL_TOPIC", "T", "REAL_QID", "x"), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stored := message.Message{Topic: body.ScheduleTopic, QueueID: 2, Body: []byte("b"), Properties: c.props,
				QueueOffset: 9, PhysicalOffset: 1234, StoreTimestamp: 5}
			m, tagsCode, err := realMessage(&stored)
			if c.wantErr {
				if !errors.Is(err, ErrNoRealTopic) {
					t.Fatalf("err %v, want ErrNoRealTopic", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Topic != "T" || m.QueueID != c.wantQueue || string(m.Body) != "b" || m.QueueOffset != 0 || m.PhysicalOffset != 0 || m.StoreTimestamp != 0 {
				t.Errorf("message %+v", m)
			}
			if got := message.ParseProperties(m.Properties); fmt.Sprint(got) != fmt.Sprint(c.wantProps) {
				t.Errorf("properties %v, want %v", got, c.wantProps)
			}
			if tagsCode != message.TagsHashCode(c.wantProps["TAGS"]) {
				t.Errorf("tagsCode %d", tagsCode)
			}
		})
	}
}
