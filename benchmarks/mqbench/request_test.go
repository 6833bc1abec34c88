package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// mapRequest is the request the generator built before requestEncoder, a
// Command with its header fields and properties in maps, kept as the
// reference the encoder's frames must match.
func mapRequest(o producerOpts, uniq string, q queueRef, seq uint64, opaque int32, now time.Time) *remoting.Command {
	ext := map[string]string{
		"a": "mqbench_pg", "b": q.topic, "c": "TBW102", "d": "4",
		"e": strconv.Itoa(int(q.queueID)), "f": "0", "g": strconv.FormatInt(now.UnixMilli(), 10),
		"h": "0", "j": "0", "k": "false", "l": "0",
	}
	props := func(seq uint64, withUniq bool) string {
		m := map[string]string{}
		if withUniq {
			m[message.PropertyUniqKey] = uniq + fmt.Sprintf("%012x", seq)
		}
		if o.keys {
			m[message.PropertyKeys] = "k" + strconv.FormatUint(seq, 10)
		}
		if o.tags != "" {
			m[message.PropertyTags] = o.tags
		}
		if withUniq && o.batch > 1 { // --batch-uniq-key: as the Java producer's items
			m[message.PropertyWait] = "true"
		}
		return message.FormatProperties(m)
	}
	body := func() []byte {
		b := make([]byte, o.size)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		if o.stamp {
			copy(b, stampMarker[:])
			binary.BigEndian.PutUint64(b[8:], uint64(now.UnixNano()))
		}
		return b
	}
	code := remoting.ReqSendMessageV2
	var b []byte
	if o.batch == 1 {
		ext["i"], ext["m"] = props(seq, true), "false"
		b = body()
	} else {
		code = remoting.ReqSendBatchMessage
		ext["i"], ext["m"] = "", "true"
		items := make([]message.BatchItem, o.batch)
		for i := range items {
			items[i] = message.BatchItem{Body: body(), Properties: props(seq*uint64(o.batch)+uint64(i), o.batchUniq)}
		}
		b = message.EncodeBatch(items)
	}
	cmd := remoting.NewRequest(code, ext, b)
	cmd.Opaque = opaque
	if o.mode == modeOneway {
		cmd.Flag = remoting.FlagOneway
	}
	if o.header == "rocketmq" {
		cmd.SerializeType = remoting.SerializeRocketMQ
	}
	return cmd
}

// TestRequestFrames: the encoder's frames carry what the map-built
// Command's frames carry, field for field, and are byte for byte the
// reference frame with its header fields in key order (a map leaves their
// order to chance).
func TestRequestFrames(t *testing.T) {
	now := time.UnixMilli(1795238031504).Add(123456)
	q := queueRef{topic: "BenchTopic", broker: "127.0.0.1:10911", queueID: 5}
	for _, c := range []struct {
		name string
		o    producerOpts
	}{
		{"json", producerOpts{size: 128, batch: 1, header: "json", mode: modeAsync}},
		{"rocketmq", producerOpts{size: 128, batch: 1, header: "rocketmq", mode: modeAsync}},
		{"keys-tags", producerOpts{size: 64, batch: 1, header: "json", mode: modeSync, keys: true, tags: "Tag\"A\\"}},
		{"oneway", producerOpts{size: 16, batch: 1, header: "json", mode: modeOneway}},
		{"stamp", producerOpts{size: 32, batch: 1, header: "rocketmq", mode: modeAsync, stamp: true}},
		{"batch", producerOpts{size: 128, batch: 4, header: "json", mode: modeAsync}},
		{"batch-keys-tags", producerOpts{size: 40, batch: 3, header: "rocketmq", mode: modeAsync, keys: true, tags: "TagB", stamp: true}},
		{"batch-uniq-key", producerOpts{size: 40, batch: 3, header: "json", mode: modeAsync, batchUniq: true}},
		{"batch-uniq-key-keys-tags", producerOpts{size: 40, batch: 2, header: "rocketmq", mode: modeAsync, keys: true, tags: "TagB", batchUniq: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const uniq = "7F0000010ABC00000000"
			enc := newRequestEncoder(&c.o, uniq)
			var got []byte
			for _, seq := range []uint64{0, 7, 1 << 40} {
				opaque := int32(seq%1000) + 1
				got = enc.append(got[:0], q, seq, opaque, now)
				want := remoting.AppendFrame(nil, mapRequest(c.o, uniq, q, seq, opaque, now))
				if len(got) != len(want) {
					t.Fatalf("seq %d: %d bytes, want %d", seq, len(got), len(want))
				}
				if !bytes.Equal(got[:8], want[:8]) {
					t.Fatalf("seq %d: frame head % x, want % x", seq, got[:8], want[:8])
				}
				g, w := decode(t, got), decode(t, want)
				if g.Code != w.Code || g.Language != w.Language || g.Version != w.Version || g.Opaque != w.Opaque ||
					g.Flag != w.Flag || g.Remark != w.Remark || g.SerializeType != w.SerializeType {
					t.Fatalf("seq %d: header %+v, want %+v", seq, g, w)
				}
				if ge, we := extMap(g), extMap(w); !maps.Equal(ge, we) {
					t.Fatalf("seq %d: extFields %q, want %q", seq, ge, we)
				}
				if !bytes.Equal(g.Body, w.Body) {
					t.Fatalf("seq %d: body %q, want %q", seq, g.Body, w.Body)
				}
				if inOrder := keyOrderFrame(w); !bytes.Equal(got, inOrder) {
					t.Fatalf("seq %d: frame\n%q\nwant the reference's fields in key order\n%q", seq, got, inOrder)
				}
			}
		})
	}
}

func decode(t *testing.T, frame []byte) *remoting.Command {
	t.Helper()
	cmd, err := remoting.DecodeFrame(frame)
	if err != nil {
		t.Fatalf("%v: %q", err, frame)
	}
	return cmd
}

// keyOrderFrame re-encodes c with its extFields in key order.
func keyOrderFrame(c *remoting.Command) []byte {
	m := extMap(c)
	var ext []remoting.ExtField
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ext = append(ext, remoting.ExtField{Key: k, Str: m[k]})
	}
	bare := remoting.Command{Code: c.Code, Language: c.Language, Version: c.Version, Opaque: c.Opaque, Flag: c.Flag,
		Remark: c.Remark, Body: c.Body, SerializeType: c.SerializeType}
	return remoting.AppendFrameExt(nil, &bare, ext)
}

func extMap(c *remoting.Command) map[string]string {
	m := map[string]string{}
	c.EachExt(func(k, v string) { m[k] = v })
	return m
}

func TestAppendHex12(t *testing.T) {
	for _, v := range []uint64{0, 1, 0xabc, 1<<48 - 1, 1 << 48, 1<<64 - 1} {
		if got, want := string(appendHex12([]byte("x"), v)), "x"+fmt.Sprintf("%012x", v); got != want {
			t.Errorf("%d: %q, want %q", v, got, want)
		}
	}
}

// BenchmarkRequestEncoder is one request frame encoded into a reused
// buffer, per --header codec.
func BenchmarkRequestEncoder(b *testing.B) {
	q := queueRef{topic: "BenchTopic", broker: "127.0.0.1:10911", queueID: 5}
	for _, header := range []string{"json", "rocketmq"} {
		b.Run(header, func(b *testing.B) {
			o := producerOpts{size: 128, batch: 1, header: header, mode: modeAsync}
			enc := newRequestEncoder(&o, "7F0000010ABC00000000")
			now := time.Now()
			var buf []byte
			b.ReportAllocs()
			for i := range b.N {
				buf = enc.append(buf[:0], q, uint64(i), int32(i), now)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
