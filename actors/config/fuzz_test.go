package config

import (
	"errors"
	"testing"
)

// FuzzBrokerProperties feeds arbitrary .properties text through parsing,
// key application and Validate: no panic, and every value error is
// ErrInvalid.
func FuzzBrokerProperties(f *testing.F) {
	f.Add([]byte("brokerName=b1\nlistenPort=10911\n"))
	f.Add([]byte("deleteWhen=04;16\nbrokerRole=SLAVE\nbrokerId=1\n"))
	f.Add([]byte("# c\nmapedFileSizeConsumeQueue : 1001\nflushDiskType SYNC_FLUSH\n"))
	f.Add([]byte("namesrvAddr=127.0.0.1:9876;bad\nregisterNameServerPeriod=99999999999999\n"))
	f.Add([]byte("fileReservedTime=9223372036854775807\nmessageDelayLevel=1s \\\n 2s\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		kvs, err := parseProperties(text)
		if err != nil {
			return
		}
		b := rawBroker()
		if _, err := apply(b.fields(), kvs); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unclassified Validate error %v", err)
		}
		n := DefaultNamesrv()
		if _, err := apply(n.fields(), kvs); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("unclassified namesrv error %v", err)
		}
	})
}
