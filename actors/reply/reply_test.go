package reply

import (
	"fmt"
	"testing"

	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/wire/remoting"
)

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int32
	}{
		{name: "nil", err: nil, want: remoting.RespSuccess},
		{name: "wrapped sentinel", err: fmt.Errorf("topic actor: %w", ErrTopicNotExist), want: remoting.RespTopicNotExist},
		{name: "Errorf keeps the code", err: Errorf(ErrMessageIllegal, "body too long"), want: remoting.RespMessageIllegal},
		{name: "missing header field", err: fmt.Errorf("decode: %w", remoting.ErrMissingField), want: remoting.RespSystemError},
		{name: "commit log not writable", err: fmt.Errorf("append: %w", commitlog.ErrNotWritable), want: remoting.RespServiceNotAvailable},
		{name: "unknown error", err: fmt.Errorf("boom"), want: remoting.RespSystemError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.want {
				t.Fatalf("CodeOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorfRemarkIsTheMessageAlone(t *testing.T) {
	req := &remoting.Command{Code: 10, Opaque: 7}
	resp := Error(req, Errorf(ErrNotSupported, " request type %d not supported", 9999))
	if resp.Code != remoting.RespRequestCodeNotSupported || resp.Remark != " request type 9999 not supported" ||
		resp.Opaque != 7 || !resp.IsResponse() {
		t.Fatalf("response %+v", resp)
	}
}
