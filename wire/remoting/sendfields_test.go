package remoting

import (
	"fmt"
	"testing"
)

// TestSendFields: reading a send header by SendField answers exactly what
// the key-based accessors answer for the field's key (values, presence,
// defaults, error texts), whether the fields sit in the decoded field
// array, in a map (a built command, a header with a key of its own), or in
// the other spelling.
func TestSendFields(t *testing.T) {
	values := []string{"", "0", "7", "-12", "+5", "x", "2147483648", "-2147483648", "99999999999999999999", "TRUE", "false"}
	for short, want := range map[bool]string{false: "producerGroup topic defaultTopic defaultTopicQueueNums queueId sysFlag " +
		"bornTimestamp flag properties reconsumeTimes unitMode maxReconsumeTimes batch brokerName", true: "a b c d e f g h i j k l m n"} {
		var got string
		for f := SendProducerGroup; f <= SendBrokerName; f++ {
			if f > 0 {
				got += " "
			}
			got += (&Command{}).SendFields(short).Key(f)
		}
		if got != want {
			t.Fatalf("short %v: keys %q, want %q", short, got, want)
		}
	}
	for _, code := range []int32{ReqSendMessage, ReqSendMessageV2, ReqSendBatchMessage, ReqSendReplyMessage, ReqSendReplyMessageV2} {
		for shift := range values {
			for _, spelled := range []bool{false, true} {
				ext := map[string]string{}
				for f := SendProducerGroup; f <= SendBrokerName; f++ {
					if v := values[(int(f)+shift)%len(values)]; v != "" || f%3 == 0 { // some absent, some ""
						ext[(&Command{}).SendFields(spelled).Key(f)] = v
					}
				}
				built := NewRequest(code, ext, nil)
				cmds := map[string]*Command{"built": built}
				for _, st := range []byte{SerializeJSON, SerializeRocketMQ} {
					built.SerializeType = st
					c, err := DecodeFrame(AppendFrame(nil, built))
					if err != nil {
						t.Fatal(err)
					}
					cmds[fmt.Sprintf("codec %d", st)] = c
				}
				withOwnKey := NewRequest(code, map[string]string{"bname": "b"}, nil)
				for k, v := range ext {
					withOwnKey.ExtFields[k] = v
				}
				c, err := DecodeFrame(AppendFrame(nil, withOwnKey))
				if err != nil {
					t.Fatal(err)
				}
				cmds["own key"] = c
				for name, c := range cmds {
					for _, short := range []bool{false, true} {
						compareSendFields(t, fmt.Sprintf("code %d, values+%d, spelled short %v, read short %v, %s", code, shift, spelled, short, name), c, short)
					}
				}
			}
		}
	}
}

// compareSendFields checks every SendFields accessor of c against the
// key-based one.
func compareSendFields(t *testing.T, name string, c *Command, short bool) {
	t.Helper()
	r := c.SendFields(short)
	for f := SendProducerGroup; f <= SendBrokerName; f++ {
		k := r.Key(f)
		check := func(what string, got, want any, gotErr, wantErr error) {
			if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("%s: %s(%s) = %v, %v; by key %v, %v", name, what, k, got, gotErr, want, wantErr)
			}
		}
		v, ok := r.Ext(f)
		wv, wok := c.Ext(k)
		check("Ext", [2]any{v, ok}, [2]any{wv, wok}, nil, nil)
		s, err := r.RequiredString(f)
		ws, werr := c.RequiredString(k)
		check("RequiredString", s, ws, err, werr)
		n32, err := r.RequiredInt32(f)
		w32, werr := c.RequiredInt32(k)
		check("RequiredInt32", n32, w32, err, werr)
		n64, err := r.RequiredInt64(f)
		w64, werr := c.RequiredInt64(k)
		check("RequiredInt64", n64, w64, err, werr)
		o32, err := r.OptionalInt32(f, -3)
		wo32, werr := c.OptionalInt32(k, -3)
		check("OptionalInt32", o32, wo32, err, werr)
		for _, def := range []bool{false, true} {
			check("OptionalBool", r.OptionalBool(f, def), c.OptionalBool(k, def), nil, nil)
		}
	}
}
