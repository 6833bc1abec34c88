package transaction

import (
	"errors"
	"strconv"
	"testing"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/remoting"
)

// FuzzEndHeader: any END_TRANSACTION header parses or fails with the code
// Java answers (SYSTEM_ERROR), never panics; what parses round-trips.
func FuzzEndHeader(f *testing.F) {
	f.Add("PG", "0", "1234", "8", "false", "C0A8000100002A9F0000000000000000")
	f.Add("PG", "17", "9223372036854775807", "12", "true", "")
	f.Add("", "x", "-1", "0", "TRUE", "id")
	f.Add("PG", "1", "2", "2147483648", "1", "id")
	f.Fuzz(func(t *testing.T, group, queueOffset, commitLogOffset, outcome, fromCheck, msgID string) {
		cmd := remoting.NewRequest(remoting.ReqEndTransaction, map[string]string{
			"producerGroup": group, "tranStateTableOffset": queueOffset, "commitLogOffset": commitLogOffset,
			"commitOrRollback": outcome, "fromTransactionCheck": fromCheck, "msgId": msgID,
		}, nil)
		h, err := parseEndHeader(cmd)
		if err != nil {
			if code := reply.CodeOf(err); code != remoting.RespSystemError {
				t.Fatalf("error %v answered with code %d", err, code)
			}
			if !errors.Is(err, remoting.ErrMissingField) && !errors.Is(err, remoting.ErrBadField) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if h.producerGroup != group || h.msgID != msgID {
			t.Fatalf("strings changed: %+v", h)
		}
		for field, got := range map[string]int64{queueOffset: h.tranStateTableOffset, commitLogOffset: h.commitLogOffset, outcome: int64(h.commitOrRollback)} {
			if want, err := strconv.ParseInt(field, 10, 64); err != nil || want != got {
				t.Fatalf("%q parsed as %d", field, got)
			}
		}
	})
}
