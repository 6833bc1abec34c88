package namesrv

import (
	"errors"
	"fmt"

	"github.com/actormq/actormq/actors/reply"
)

// Sentinel errors of the NameServer. Each wraps the reply sentinel that
// decides its response code, so reply.CodeOf maps it without a table entry
// of its own.
var (
	ErrCRCMismatch         = fmt.Errorf("namesrv: register body crc32 mismatch: %w", reply.ErrSystem)
	ErrBadBody             = fmt.Errorf("namesrv: malformed request body: %w", reply.ErrSystem)
	ErrCompressedBody      = fmt.Errorf("namesrv: malformed compressed register body: %w", reply.ErrSystem)
	ErrAllTopicListDisable = fmt.Errorf("namesrv: all-topic list disabled: %w", reply.ErrSystem)
	ErrKVNotFound          = fmt.Errorf("namesrv: kv config not found: %w", reply.ErrQueryNotFound)
	ErrKVPersist           = fmt.Errorf("namesrv: kv config not persisted: %w", reply.ErrSystem)
	ErrStarted             = errors.New("namesrv: server already started")
)

// errBusy answers a request beyond requestsInflightMax.
var errBusy = withRemark(reply.ErrSystemBusy, "[OVERLOAD]name server busy, too many requests queued")

// remarkError carries the exact remark Java sends for a failure while
// errors.Is still classifies it by the wrapped sentinel: reply.Error uses
// Error() as the remark and CodeOf follows Unwrap.
type remarkError struct {
	remark string
	err    error
}

func (e *remarkError) Error() string { return e.remark }
func (e *remarkError) Unwrap() error { return e.err }

// withRemark answers err with Java's remark text.
func withRemark(err error, format string, args ...any) error {
	return &remarkError{remark: fmt.Sprintf(format, args...), err: err}
}
