package remoting

import (
	"bytes"
	"strings"
	"testing"
)

// TestSendResponseEncoder: the encoder writes exactly the frame
// AppendFrameExt writes for the same fields, in both answer shapes, and
// allocates nothing beyond dst.
func TestSendResponseEncoder(t *testing.T) {
	cases := []SendResponse{
		{Code: RespSuccess, Opaque: 7, MsgID: []byte("7F00000100002A9F00000000000003E8"), QueueID: 3, QueueOffset: 1 << 40,
			TransactionID: "C0A8\"01\\x"},
		{Code: RespFlushDiskTimeout, Opaque: -1, Remark: "flush disk timeout",
			MsgID: []byte("7F00000100002A9F00000000000003E8,7F00000100002A9F00000000000003F8"), QueueID: -1},
		{Code: RespSuccess, MsgID: []byte{}},
	}
	for _, region := range []string{"DefaultRegion", "région \"quoted\""} {
		e := NewSendResponseEncoder(region, "true")
		for _, r := range cases {
			got := e.Append([]byte("x"), &r)
			ext := []ExtField{{Key: "msgId", Bytes: r.MsgID}, {Key: "queueId", Int: int64(r.QueueID), IsInt: true},
				{Key: "queueOffset", Int: r.QueueOffset, IsInt: true}}
			if r.TransactionID != "" {
				ext = append(ext, ExtField{Key: "transactionId", Str: r.TransactionID})
			}
			ext = append(ext, ExtField{Key: "MSG_REGION", Str: region}, ExtField{Key: "TRACE_ON", Str: "true"})
			c := Command{Code: r.Code, Language: LanguageGo, Version: Version, Opaque: r.Opaque, Flag: FlagResponse, Remark: r.Remark}
			if want := AppendFrameExt([]byte("x"), &c, ext); !bytes.Equal(got, want) {
				t.Fatalf("region %q, %+v:\n got %s\nwant %s", region, r, got, want)
			}
			if _, err := DecodeFrame(got[1:]); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := NewSendResponseEncoder("DefaultRegion", "false")
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { dst = e.Append(dst[:0], &cases[0]) }); n != 0 {
		t.Fatalf("Append allocates %v times", n)
	}
	huge := SendResponse{MsgID: []byte(strings.Repeat("7F00000100002A9F00000000000003E8,", HeaderBytesMax/33+1))}
	c, err := DecodeFrame(e.Append(nil, &huge))
	if err != nil || c.Remark != errHeaderTooLargeRemark {
		t.Fatalf("oversize header: %v, remark %q", err, c.Remark)
	}
}

func BenchmarkSendResponseEncoder(b *testing.B) {
	e := NewSendResponseEncoder("DefaultRegion", "true")
	r := SendResponse{Code: RespSuccess, Opaque: 123456, MsgID: []byte("7F00000100002A9F00000000000003E8"), QueueID: 3, QueueOffset: 1000,
		TransactionID: "C0000202705D00000000681372a80001"}
	buf := e.Append(nil, &r)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = e.Append(buf[:0], &r)
	}
}
