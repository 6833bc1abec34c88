// Package reply owns the one table that maps internal errors to RocketMQ
// response codes, and the helpers that write responses. Handlers return or
// pass errors wrapping these sentinels; they never pick codes ad hoc.
package reply

import (
	"errors"
	"fmt"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/wire/remoting"
)

// Sentinel errors, each answered with the code in codeTable.
var (
	ErrSystem                    = errors.New("system error")
	ErrSystemBusy                = errors.New("system busy")
	ErrNotSupported              = errors.New("request type not supported")
	ErrMessageIllegal            = errors.New("message illegal")
	ErrServiceNotAvailable       = errors.New("service not available")
	ErrNoPermission              = errors.New("no permission")
	ErrTopicNotExist             = errors.New("topic not exist")
	ErrQueryNotFound             = errors.New("query not found")
	ErrSubscriptionNotExist      = errors.New("subscription not exist")
	ErrSubscriptionNotLatest     = errors.New("subscription not latest")
	ErrSubscriptionGroupNotExist = errors.New("subscription group not exist")
	ErrInvalidParameter          = errors.New("invalid parameter")
	ErrConsumerNotOnline         = errors.New("consumer not online")
	ErrSubscriptionParseFailed   = errors.New("subscription parse failed")
	ErrSlaveNotAvailable         = errors.New("slave not available")
	ErrConsumeMsgTimeout         = errors.New("consumer did not answer in time")
)

// codeTable is checked in order; the first match wins.
var codeTable = []struct {
	err  error
	code int32
}{
	{ErrSystemBusy, remoting.RespSystemBusy},
	{ErrNotSupported, remoting.RespRequestCodeNotSupported},
	{ErrMessageIllegal, remoting.RespMessageIllegal},
	{ErrServiceNotAvailable, remoting.RespServiceNotAvailable},
	{commitlog.ErrNotWritable, remoting.RespServiceNotAvailable},
	{consumequeue.ErrNotWritable, remoting.RespServiceNotAvailable},
	{ErrNoPermission, remoting.RespNoPermission},
	{ErrTopicNotExist, remoting.RespTopicNotExist},
	{ErrQueryNotFound, remoting.RespQueryNotFound},
	{ErrSubscriptionNotExist, remoting.RespSubscriptionNotExist},
	{ErrSubscriptionNotLatest, remoting.RespSubscriptionNotLatest},
	{ErrSubscriptionGroupNotExist, remoting.RespSubscriptionGroupNotExist},
	{ErrInvalidParameter, remoting.RespInvalidParameter},
	{ErrConsumerNotOnline, remoting.RespConsumerNotOnline},
	{ErrSubscriptionParseFailed, remoting.RespSubscriptionParseFailed},
	{ErrSlaveNotAvailable, remoting.RespSlaveNotAvailable},
	{ErrConsumeMsgTimeout, remoting.RespConsumeMsgTimeout},
	{remoting.ErrMissingField, remoting.RespSystemError},
	{remoting.ErrBadField, remoting.RespSystemError},
}

// CodeOf maps err to its response code; unknown errors are SYSTEM_ERROR.
func CodeOf(err error) int32 {
	if err == nil {
		return remoting.RespSuccess
	}
	for _, e := range codeTable {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return remoting.RespSystemError
}

// Error builds the error response to req for err (code from the table,
// remark = err's text).
func Error(req *remoting.Command, err error) *remoting.Command {
	return remoting.NewResponse(req, CodeOf(err), err.Error())
}

// WriteError writes the error response for err to c. A write failure means the
// connection is gone, and there is no one left to tell.
func WriteError(c *netio.Conn, req *remoting.Command, err error) {
	_ = c.Write(Error(req, err))
}

// WriteOK writes a SUCCESS response with optional ext fields and body.
func WriteOK(c *netio.Conn, req *remoting.Command, ext map[string]string, body []byte) {
	resp := remoting.NewResponse(req, remoting.RespSuccess, "")
	resp.ExtFields = ext
	resp.Body = body
	_ = c.Write(resp)
}

// codedError carries a sentinel for the code table and a remark of its own,
// so clients see Java-like remarks without the sentinel's text prepended.
type codedError struct {
	sentinel error
	msg      string
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.sentinel }

// Errorf returns an error that maps to sentinel's code and whose text (the
// response remark) is the formatted message alone.
func Errorf(sentinel error, format string, args ...any) error {
	return &codedError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}
