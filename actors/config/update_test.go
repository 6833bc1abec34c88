package config

import (
	"errors"
	"testing"
)

func TestBrokerWith(t *testing.T) {
	b := DefaultBroker()
	next, err := b.With([]KV{{Key: "storeReplyMessageEnable", Value: "false"}, {Key: "mapedFileSizeCommitLog", Value: "1024"}})
	if err != nil {
		t.Fatal(err)
	}
	if next.StoreReplyMessageEnable || next.MapedFileSizeCommitLog != 1024 || !b.StoreReplyMessageEnable || b.MapedFileSizeCommitLog == 1024 {
		t.Fatalf("With: next %v/%d, original %v/%d", next.StoreReplyMessageEnable, next.MapedFileSizeCommitLog,
			b.StoreReplyMessageEnable, b.MapedFileSizeCommitLog)
	}
	if _, err := b.With([]KV{{Key: "storeReplyMessageEnable", Value: "false"}, {Key: "nope", Value: "1"}}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := b.With([]KV{{Key: "messageDelayLevel", Value: "1x"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid value: %v", err)
	}
	kvs, err := ParseProperties([]byte("# comment\na=1\nb : two\n"))
	if err != nil || len(kvs) != 2 || kvs[0] != (KV{"a", "1"}) || kvs[1] != (KV{"b", "two"}) {
		t.Fatalf("ParseProperties = %v, %v", kvs, err)
	}
}
