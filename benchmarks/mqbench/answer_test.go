package main

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// sendAnswer is a send's SUCCESS as actormq's broker writes it.
func sendAnswer(code, opaque int32, remark string) []byte {
	enc := remoting.NewSendResponseEncoder("DefaultRegion", "true")
	return enc.Append(nil, &remoting.SendResponse{Code: code, Opaque: opaque, Remark: remark,
		MsgID: []byte("7F00000100002A9F0000000000000000"), QueueID: 3, QueueOffset: 42, TransactionID: "T"})
}

// commandFrame is the frame of a command with extFields, in codec st.
func commandFrame(code, opaque, flag int32, remark string, st byte) []byte {
	return remoting.AppendFrame(nil, &remoting.Command{Code: code, Language: remoting.LanguageGo, Version: remoting.Version,
		Opaque: opaque, Flag: flag, Remark: remark, SerializeType: st,
		ExtFields: map[string]string{"opaque": "77", "code": "1", "queueId": "3"}})
}

// javaAnswer is a JSON answer with Java's alphabetical field order, which
// the in-place reader leaves to the full decoder.
const javaAnswer = `{"code":0,"extFields":{"msgId":"X","opaque":"5"},"flag":1,"language":"JAVA","opaque":9,"serializeTypeCurrentRPC":"JSON","version":401}`

func jsonFrame(header string) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(4+len(header)))
	f = binary.BigEndian.AppendUint32(f, uint32(len(header)))
	return append(f, header...)
}

func TestReadAnswer(t *testing.T) {
	for _, c := range []struct {
		name    string
		frame   []byte
		scanned bool // scanAnswer reads it (readAnswer decodes failures whole for their remark)
		ok      bool
		want    answer
	}{
		{"send success", sendAnswer(0, 12345, ""), true, true, answer{code: 0, opaque: 12345}},
		{"send flush timeout", sendAnswer(remoting.RespFlushDiskTimeout, 8, "flush timeout"), true, true,
			answer{code: remoting.RespFlushDiskTimeout, opaque: 8, remark: "flush timeout"}},
		{"json success", commandFrame(0, -3, remoting.FlagResponse, `"opaque":4,"flag":1`, remoting.SerializeJSON), true, true,
			answer{code: 0, opaque: -3}},
		{"json error", commandFrame(remoting.RespSystemBusy, 2, remoting.FlagResponse, "[OVERLOAD]", remoting.SerializeJSON), true, true,
			answer{code: remoting.RespSystemBusy, opaque: 2, remark: "[OVERLOAD]"}},
		{"binary success", commandFrame(0, 2147483647, remoting.FlagResponse, "", remoting.SerializeRocketMQ), true, true,
			answer{code: 0, opaque: 2147483647}},
		{"binary error", commandFrame(remoting.RespSystemError, 6, remoting.FlagResponse, "boom", remoting.SerializeRocketMQ), true, true,
			answer{code: remoting.RespSystemError, opaque: 6, remark: "boom"}},
		{"java order", jsonFrame(javaAnswer), false, true, answer{code: 0, opaque: 9}},
		{"json request", commandFrame(remoting.ReqCheckTransactionState, 4, 0, "", remoting.SerializeJSON), true, false, answer{}},
		{"binary request", commandFrame(remoting.ReqCheckTransactionState, 4, 0, "", remoting.SerializeRocketMQ), true, false, answer{}},
		{"garbage", []byte("\x00\x00\x00\x06\x00\x00\x00\x02{x"), false, false, answer{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, _, scanned := scanAnswer(c.frame); scanned != c.scanned {
				t.Errorf("read in place: %v, want %v", scanned, c.scanned)
			}
			got, ok := readAnswer(c.frame)
			if ok != c.ok || got != c.want {
				t.Errorf("readAnswer = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestJSONInt32(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int32
		ok   bool
	}{
		{"0,", 0, true}, {"7}", 7, true}, {"-12,", -12, true}, {"2147483647,", 2147483647, true},
		{"-2147483648,", -2147483648, true}, {"2147483648,", 0, false}, {"-2147483649,", 0, false},
		{"99999999999999999999,", 0, false}, {"01,", 0, false}, {"-,", 0, false}, {",", 0, false}, {"", 0, false},
	} {
		got, _, ok := jsonInt32([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzScanAnswer: the in-place reader never panics, and whenever it and
// the full decoder both read a frame whose header names each of its fields
// once, they agree on code, opaque and flag.
func FuzzScanAnswer(f *testing.F) {
	f.Add(sendAnswer(0, 1, ""))
	f.Add(commandFrame(0, 2, remoting.FlagResponse, "", remoting.SerializeRocketMQ))
	f.Add(jsonFrame(javaAnswer))
	f.Fuzz(func(t *testing.T, frame []byte) {
		code, opaque, flag, ok := scanAnswer(frame)
		_, _ = readAnswer(frame)
		cmd, err := remoting.DecodeFrame(frame)
		if !ok || err != nil {
			return
		}
		if frame[4] == remoting.SerializeJSON {
			header := frame[8 : 8+binary.BigEndian.Uint32(frame[4:])&remoting.HeaderBytesMax]
			for _, key := range []string{`"code"`, `"opaque"`, `"flag"`} {
				if bytes.Count(header, []byte(key)) != 1 {
					return
				}
			}
		}
		if code != cmd.Code || opaque != cmd.Opaque || flag != cmd.Flag {
			t.Fatalf("read in place %d/%d/%d, decoded %d/%d/%d: %q", code, opaque, flag, cmd.Code, cmd.Opaque, cmd.Flag, frame)
		}
	})
}
