package send

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// FuzzSendHeader checks that any V1 or V2 header values parse or fail
// cleanly, and that both spellings decode alike.
func FuzzSendHeader(f *testing.F) {
	f.Add("pg", "TopicTest", "TBW102", "4", "0", "0", "1700000000000", "0", "TAGS\x01a\x02", "0", "0", "false")
	f.Add("", "", "", "x", "-1", "", "", "", "", "", "", "true")
	f.Fuzz(func(t *testing.T, a, b, c, d, e, ff, g, h, i, j, l, m string) {
		v1 := remoting.NewRequest(remoting.ReqSendMessage, map[string]string{
			"producerGroup": a, "topic": b, "defaultTopic": c, "defaultTopicQueueNums": d, "queueId": e,
			"sysFlag": ff, "bornTimestamp": g, "flag": h, "properties": i, "reconsumeTimes": j,
			"maxReconsumeTimes": l, "batch": m,
		}, nil)
		v2 := remoting.NewRequest(remoting.ReqSendMessageV2, map[string]string{
			"a": a, "b": b, "c": c, "d": d, "e": e, "f": ff, "g": g, "h": h, "i": i, "j": j, "l": l, "m": m,
		}, nil)
		h1, err1 := parseSendHeader(v1, false)
		h2, err2 := parseSendHeader(v2, true)
		if (err1 == nil) != (err2 == nil) || h1 != h2 {
			t.Fatalf("V1 %+v %v, V2 %+v %v", h1, err1, h2, err2)
		}
		// Off the wire, a send header's fields sit in the codec's field
		// array instead of a map (remoting/sendext.go): same result.
		for _, st := range []byte{remoting.SerializeJSON, remoting.SerializeRocketMQ} {
			if st == remoting.SerializeJSON && !allValidUTF8(a, b, c, d, e, ff, g, h, i, j, l, m) {
				continue // JSON turns bad UTF-8 into U+FFFD, by design
			}
			for _, built := range []*remoting.Command{v1, v2} {
				built.SerializeType = st
				wire, err := remoting.DecodeFrame(remoting.AppendFrame(nil, built))
				if err != nil {
					t.Fatal(err)
				}
				h3, err3 := parseSendHeader(wire, built == v2)
				if (err2 == nil) != (err3 == nil) || h2 != h3 {
					t.Fatalf("code %d, codec %d: decoded %+v %v, built %+v %v", built.Code, st, h3, err3, h2, err2)
				}
			}
		}
	})
}

func allValidUTF8(values ...string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// FuzzProperties checks the one-pass property reading of the send path
// against the per-key functions it replaces: every value propScan finds is
// PropertyValue's, and the stored properties, base followed by tail, are
// what RemoveProperty and SetProperty build, with base the producer's
// properties themselves when nothing had to be removed.
func FuzzProperties(f *testing.F) {
	f.Add("TAGS\x01a\x02UNIQ_KEY\x01u\x02", "DefaultCluster")
	f.Add("WAIT\x01false\x02DELAY\x013\x02POP_CK\x01x", "")
	f.Add("CLUSTER\x01old\x02CLUSTER\x01\x02TRAN_MSG\x01true", "c")
	f.Add("KEYS\x01k", "c")
	f.Fuzz(func(t *testing.T, props, cluster string) {
		if strings.ContainsAny(cluster, "\x01\x02") {
			return
		}
		var p propScan
		p.scan(props)
		for key, got := range map[string]string{
			message.PropertyWait: p.wait, message.PropertyUniqKey: p.uniqKey, message.PropertyTags: p.tags,
			message.PropertyDelay: p.delay, message.PropertyTranMsg: p.tranMsg,
		} {
			if want, _ := message.PropertyValue(props, key); got != want {
				t.Fatalf("%s: scanned %q, PropertyValue %q", key, got, want)
			}
		}
		for key, got := range map[string]bool{
			message.PropertyDelay: p.hasDelay, propertyPopCK: p.hasPopCK, message.PropertyCluster: p.hasCluster,
		} {
			if _, want := message.PropertyValue(props, key); got != want {
				t.Fatalf("%s: scanned presence %v, PropertyValue %v", key, got, want)
			}
		}
		s := &Sender{cfg: Config{Broker: config.Broker{BrokerClusterName: cluster}}}
		if cluster != "" {
			s.clusterEntry = message.PropertyCluster + "\x01" + cluster + "\x02"
			s.clusterEntrySep = "\x02" + s.clusterEntry
		}
		want := message.RemoveProperty(props, propertyPopCK)
		if cluster != "" {
			want = message.SetProperty(want, message.PropertyCluster, cluster)
		}
		base, tail, err := s.properties(props, &p)
		if len(want) > message.PropertiesBytesMax {
			if err == nil {
				t.Fatalf("%d bytes of properties accepted", len(want))
			}
			return
		}
		if err != nil || base+tail != want {
			t.Fatalf("base+tail %q, SetProperty %q (%v)", base+tail, want, err)
		}
		if !p.hasPopCK && (!p.hasCluster || cluster == "") && base != props {
			t.Fatalf("base %q, want the producer's %q", base, props)
		}
	})
}
