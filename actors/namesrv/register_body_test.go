package namesrv

import (
	"errors"
	"hash/crc32"
	"strconv"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

func javaCRC(b []byte) int32 { return int32(crc32.ChecksumIEEE(b) & 0x7FFFFFFF) }

func TestDecodeCompressedRegisterBodyErrorClass(t *testing.T) {
	_, err := decodeRegisterBody([]byte("plain text"), true)
	if !errors.Is(err, ErrCompressedBody) || !errors.Is(err, body.ErrRegisterBody) || reply.CodeOf(err) != remoting.RespSystemError {
		t.Fatalf("err = %v", err)
	}
}

func registerCmd(body []byte, ext map[string]string) *remoting.Command {
	base := map[string]string{
		"clusterName": "C", "brokerName": "b1", "brokerAddr": "127.0.0.1:10911",
		"haServerAddr": "127.0.0.1:10912", "brokerId": "0",
	}
	for k, v := range ext {
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return remoting.NewRequest(remoting.ReqRegisterBroker, base, body)
}

func TestDecodeRegisterHeader(t *testing.T) {
	js := []byte(`{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","readQueueNums":2,` +
		`"writeQueueNums":2,"perm":6}},"dataVersion":{"stateVersion":0,"timestamp":5,"counter":3}},"filterServerList":[]}`)
	// The compressed form's own layout is checked against Java's in
	// wire/body (javaRegisterBody); here it only has to reach the decoder.
	zipped := body.EncodeRegisterBody(&body.RegisterBrokerBody{TopicConfigSerializeWrapper: body.TopicConfigSerializeWrapper{
		TopicConfigTable: map[string]body.TopicConfig{"T": {TopicName: "T", ReadQueueNums: 2, WriteQueueNums: 2, Perm: 6}},
		DataVersion:      body.DataVersion{Timestamp: 5, Counter: 3},
	}})
	tests := []struct {
		name     string
		cmd      *remoting.Command
		wantCode int32  // response code of the error; -1 when decoding succeeds
		remark   string // exact remark when set
		timeout  time.Duration
	}{
		{name: "json body", cmd: registerCmd(js, nil), wantCode: -1, timeout: time.Minute},
		{name: "json body with java crc", cmd: registerCmd(js, map[string]string{"bodyCrc32": strconv.Itoa(int(javaCRC(js)))}),
			wantCode: -1, timeout: time.Minute},
		{name: "unsigned crc accepted", cmd: registerCmd(js, map[string]string{"bodyCrc32": strconv.FormatUint(uint64(crc32.ChecksumIEEE(js)), 10)}),
			wantCode: -1, timeout: time.Minute},
		{name: "compressed", cmd: registerCmd(zipped, map[string]string{"compressed": "true", "heartbeatTimeoutMillis": "5000"}),
			wantCode: -1, timeout: 5 * time.Second},
		{name: "crc mismatch", cmd: registerCmd(js, map[string]string{"bodyCrc32": "12345"}),
			wantCode: remoting.RespSystemError, remark: "crc32 not match"},
		{name: "missing brokerAddr", cmd: registerCmd(js, map[string]string{"brokerAddr": ""}),
			wantCode: remoting.RespSystemError},
		{name: "bad brokerId", cmd: registerCmd(js, map[string]string{"brokerId": "x"}),
			wantCode: remoting.RespSystemError},
		{name: "bad json", cmd: registerCmd([]byte("{"), nil), wantCode: remoting.RespSystemError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, ok, err := decodeRouteRequest(tt.cmd, time.Minute)
			if !ok {
				t.Fatal("not a route request")
			}
			if tt.wantCode >= 0 {
				if err == nil || reply.CodeOf(err) != tt.wantCode {
					t.Fatalf("err = %v, want code %d", err, tt.wantCode)
				}
				if tt.remark != "" && err.Error() != tt.remark {
					t.Fatalf("remark = %q, want %q", err.Error(), tt.remark)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := op.(*registration)
			if r.timeout != tt.timeout || r.dataVersion.Counter != 3 || r.topics["T"].WriteQueueNums != 2 {
				t.Fatalf("registration = %+v", r)
			}
		})
	}
}
