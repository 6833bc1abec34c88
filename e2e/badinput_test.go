package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

func sendRequest(topic string, body []byte) rawRequest {
	return rawRequest{code: 10, body: body, ext: map[string]string{
		"producerGroup": "PG_raw", "topic": topic, "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
		"queueId": "0", "sysFlag": "0", "bornTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"flag": "0", "properties": "", "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
	}}
}

// expectClosed checks the peer closes the connection (EOF or reset) instead
// of answering.
func expectClosed(t *testing.T, rc *rawConn, what string) {
	t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1)
	_, err := rc.c.Read(buf)
	if err == nil {
		t.Fatalf("%s: connection still open (got a byte)", what)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("%s: want the connection closed, got %v", what, err)
	}
}

// TestBadInputIsAnsweredAndOthersKeepWorking throws malformed and illegal
// requests at a broker and a NameServer while a real producer keeps sending.
func TestBadInputIsAnsweredAndOthersKeepWorking(t *testing.T) {
	topic := "GoodTopic"
	ns, b := startWithTopic(t, brokerOpts{autoCreateTopic: false, maxMessageSize: 1024}, topic, 2)
	p := newProducer(t, ns, "PG_good")

	// A well-behaved producer sends throughout; every send must succeed.
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			res, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte("good-"+strconv.Itoa(i))))
			if err != nil || res.Status != primitive.SendOK {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, errors.New(strings.TrimSpace(errString(err)+" "+statusString(res))))
				continue
			}
			sent.Add(1)
		}
	}()
	waitFor(t, 15*time.Second, "the good producer under way", func() bool { return sent.Load() > 0 })

	for _, addr := range []string{b.addr, ns.addr} {
		// Garbage: a length field below the minimum.
		rc, err := dialRaw(addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = rc.c.Write([]byte{0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef})
		expectClosed(t, rc, addr+" garbage")
		rc.close()

		// A header that is not JSON.
		rc, _ = dialRaw(addr)
		junk := []byte("{not json at all")
		frame := make([]byte, 8)
		binary.BigEndian.PutUint32(frame[0:4], uint32(4+len(junk)))
		binary.BigEndian.PutUint32(frame[4:8], uint32(len(junk)))
		_, _ = rc.c.Write(append(frame, junk...))
		expectClosed(t, rc, addr+" junk header")
		rc.close()

		// A frame over the 16 MiB limit is refused before its body arrives.
		rc, _ = dialRaw(addr)
		over := make([]byte, 8)
		binary.BigEndian.PutUint32(over[0:4], 17<<20)
		_, _ = rc.c.Write(over)
		expectClosed(t, rc, addr+" oversize frame")
		rc.close()

		// A truncated frame followed by end of stream.
		rc, _ = dialRaw(addr)
		full := encodeRawFrame(rawRequest{code: 9999}, 1)
		_, _ = rc.c.Write(full[:len(full)/2])
		_ = rc.c.(interface{ CloseWrite() error }).CloseWrite()
		expectClosed(t, rc, addr+" truncated frame")
		rc.close()

		// An unknown request code is answered, and the connection stays usable.
		rc, _ = dialRaw(addr)
		resp, err := rc.invoke(rawRequest{code: 9999})
		if err != nil || resp.code != 3 {
			t.Fatalf("%s unknown code: %v %+v", addr, err, resp)
		}
		resp, err = rc.invoke(rawRequest{code: 9998})
		if err != nil || resp.code != 3 {
			t.Fatalf("%s second unknown code on the same connection: %v %+v", addr, err, resp)
		}
		rc.close()
	}

	pull := func(ext map[string]string) rawRequest {
		req := rawRequest{code: 11, ext: map[string]string{"consumerGroup": "CG", "topic": topic, "queueId": "0",
			"queueOffset": "0", "maxMsgNums": "32", "sysFlag": "0", "commitOffset": "0", "suspendTimeoutMillis": "0", "subVersion": "0"}}
		for k, v := range ext {
			req.ext[k] = v
		}
		return req
	}
	batchHeader := map[string]string{"a": "PG", "b": topic, "c": "TBW102", "d": "4", "e": "0", "f": "0", "g": "1", "h": "0", "i": "", "m": "true"}
	cases := []struct {
		name string
		req  rawRequest
		code int
	}{
		{"body over maxMessageSize", sendRequest(topic, make([]byte, 2048)), 13},
		{"illegal topic name", sendRequest("bad topic!", []byte("x")), 29},
		{"missing topic with auto-create off", sendRequest("NoSuchTopic", []byte("x")), 17},
		{"send missing required header", rawRequest{code: 10, ext: map[string]string{"topic": topic}}, 1},
		{"batch body garbage", rawRequest{code: 320, ext: batchHeader, body: []byte("not a batch body at all")}, 13},
		{"heartbeat body garbage", rawRequest{code: 34, body: []byte("{garbage")}, 1},
		{"pull offset not a number", pull(map[string]string{"queueOffset": "abc"}), 1},
		{"pull queue out of range", pull(map[string]string{"queueId": "99"}), 29},
		{"pull missing topic", pull(map[string]string{"topic": "NoSuchTopic"}), 17},
		{"create topic missing fields", rawRequest{code: 17, ext: map[string]string{"topic": "X"}}, 1},
		{"create topic illegal name", rawRequest{code: 17, ext: map[string]string{"topic": "bad name", "readQueueNums": "4",
			"writeQueueNums": "4", "perm": "6", "defaultTopic": "TBW102", "topicFilterType": "SINGLE_TAG", "order": "false"}}, 29},
		{"subscription group body garbage", rawRequest{code: 200, body: []byte("nope")}, 1},
		{"consumer list of an unknown group", rawRequest{code: 38, ext: map[string]string{"consumerGroup": "Nobody"}}, 1},
	}
	rc, err := dialRaw(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	for _, tc := range cases {
		resp, err := rc.invoke(tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.code != tc.code || resp.remark == "" {
			t.Errorf("%s: code %d remark %q, want code %d with a remark", tc.name, resp.code, resp.remark, tc.code)
		}
	}
	nsCases := []struct {
		name string
		req  rawRequest
		code int
	}{
		{"register broker body garbage", rawRequest{code: 103, body: []byte("{{{"), ext: map[string]string{"brokerName": "b",
			"brokerAddr": "127.0.0.1:1", "clusterName": "c", "haServerAddr": "127.0.0.1:2", "brokerId": "0"}}, 1},
		{"route without topic", rawRequest{code: 105}, 1},
		{"route of an unknown topic", rawRequest{code: 105, ext: map[string]string{"topic": "NoSuchTopic"}}, 17},
	}
	for _, tc := range nsCases {
		resp, err := rawInvoke(ns.addr, tc.req)
		if err != nil || resp.code != tc.code || resp.remark == "" {
			t.Errorf("namesrv %s: %v code %d remark %q, want code %d with a remark", tc.name, err, resp.code, resp.remark, tc.code)
		}
	}
	// The same raw connection still sends good messages.
	resp, err := rc.invoke(sendRequest(topic, []byte("raw-good")))
	if err != nil || resp.code != 0 || len(resp.ext["msgId"]) != 32 {
		t.Fatalf("good raw send after bad ones: %v %+v", err, resp)
	}

	// The fast channel (listenPort-2) serves sends but not pulls, as Java's.
	fastAddr := fastChannel(t, b)
	resp, err = rawInvoke(fastAddr, sendRequest(topic, []byte("fast-good")))
	if err != nil || resp.code != 0 || len(resp.ext["msgId"]) != 32 {
		t.Fatalf("send on the fast channel: %v %+v", err, resp)
	}
	resp, err = rawInvoke(fastAddr, rawRequest{code: 11, ext: map[string]string{"consumerGroup": "CG", "topic": topic,
		"queueId": "0", "queueOffset": "0", "maxMsgNums": "32", "sysFlag": "0", "commitOffset": "0",
		"suspendTimeoutMillis": "0", "subVersion": "0"}})
	if err != nil || resp.code != 3 {
		t.Fatalf("pull on the fast channel: %v %+v, want code 3", err, resp)
	}

	before := sent.Load()
	waitFor(t, 15*time.Second, "the good producer still sending", func() bool { return sent.Load() > before+10 })
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d good sends failed during the bad input, first: %v", failed.Load(), firstErr.Load())
	}
}

// fastChannel is the broker's fast-channel address (listenPort-2).
func fastChannel(t *testing.T, b *broker) string {
	t.Helper()
	host, port, err := net.SplitHostPort(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(p-2))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func statusString(r *primitive.SendResult) string {
	if r == nil {
		return ""
	}
	return "status " + strconv.Itoa(int(r.Status))
}
