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
var errBusy = reply.Errorf(reply.ErrSystemBusy, "[OVERLOAD]name server busy, too many requests queued")
