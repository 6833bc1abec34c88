package body

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateNames(t *testing.T) {
	tests := []struct {
		name    string
		check   func(string) error
		in      string
		wantSub string // "" means valid
	}{
		{name: "plain topic", check: ValidateTopic, in: "TopicTest"},
		{name: "every allowed character", check: ValidateTopic, in: "aZ09_-|%"},
		{name: "topic of 127 bytes", check: ValidateTopic, in: strings.Repeat("t", TopicBytesMax)},
		{name: "topic of 128 bytes", check: ValidateTopic, in: strings.Repeat("t", TopicBytesMax+1), wantSub: "longer than 127"},
		{name: "retry topic of 255 bytes", check: ValidateTopic, in: RetryTopic(strings.Repeat("g", RetryTopicBytesMax-len(RetryGroupPrefix)))},
		{name: "DLQ topic of 255 bytes", check: ValidateTopic, in: DLQTopic(strings.Repeat("g", RetryTopicBytesMax-len(DLQGroupPrefix)))},
		{name: "retry topic of 256 bytes", check: ValidateTopic, in: RetryTopic(strings.Repeat("g", RetryTopicBytesMax+1-len(RetryGroupPrefix))), wantSub: "longer than 255"},
		{name: "empty topic", check: ValidateTopic, in: "", wantSub: "blank"},
		{name: "blank topic", check: ValidateTopic, in: " \t", wantSub: "blank"},
		{name: "dot in topic", check: ValidateTopic, in: "a.b", wantSub: "illegal characters"},
		{name: "non-ASCII topic", check: ValidateTopic, in: "主题", wantSub: "illegal characters"},
		{name: "group of 255 bytes", check: ValidateGroup, in: strings.Repeat("g", GroupBytesMax)},
		{name: "group of 256 bytes", check: ValidateGroup, in: strings.Repeat("g", GroupBytesMax+1), wantSub: "group is longer than 255"},
		{name: "space in group", check: ValidateGroup, in: "my group", wantSub: "group \"my group\" contains illegal characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.in)
			if tc.wantSub == "" {
				if err != nil {
					t.Fatalf("%q: %v, want valid", tc.in, err)
				}
				return
			}
			if !errors.Is(err, ErrIllegalName) || !strings.Contains(err.Error(), tc.wantSub) {
				t.Fatalf("%q: err = %v, want ErrIllegalName containing %q", tc.in, err, tc.wantSub)
			}
		})
	}
}

func TestSystemTopicNames(t *testing.T) {
	for _, topic := range []string{ScheduleTopic, TransHalfTopic, TransOpHalfTopic, "TRANS_CHECK_MAX_TIME_TOPIC", SelfTestTopic, OffsetMovedTopic} {
		if !IsNotSendable(topic) {
			t.Errorf("IsNotSendable(%q) = false", topic)
		}
	}
	for _, topic := range []string{"TopicTest", DefaultTopic, RetryTopic("G"), DLQTopic("G")} {
		if IsNotSendable(topic) {
			t.Errorf("IsNotSendable(%q) = true", topic)
		}
	}
	if got := RetryTopic("G1"); got != "%RETRY%G1" {
		t.Errorf("RetryTopic = %q", got)
	}
	if got := DLQTopic("G1"); got != "%DLQ%G1" {
		t.Errorf("DLQTopic = %q", got)
	}
}

func TestDataVersionNext(t *testing.T) {
	v := DataVersion{StateVersion: 3, Timestamp: 1, Counter: 41}
	n := v.Next()
	if n.Counter != 42 || n.StateVersion != 3 || n.Timestamp <= 1 || v.Counter != 41 {
		t.Fatalf("Next of %+v = %+v", v, n)
	}
}
