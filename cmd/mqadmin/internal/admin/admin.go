// Package admin is mqadmin's client side of the remoting protocol: the
// NameServer and broker requests RocketMQ's admin tool makes (wire-protocol.md
// §5, §6.2, §6.5, §6.6), route lookups, the choice of each broker's master,
// and the decoding of the message records they answer with. The JSON
// bodies, fastjson's maps keyed by MessageQueue objects (§8.7) included,
// are decoded by wire/body, which the broker encodes them with.
//
// Every request runs under its own timeout. A response code other than the
// one a method expects becomes a *CodeError; a transport failure becomes an
// error naming the peer ("connect to name server 127.0.0.1:9876: connection
// refused"). Methods are safe from any goroutine.
package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// ErrNoNameServer is returned by New when no NameServer address is given.
var ErrNoNameServer = errors.New("no name server address: set -n or NAMESRV_ADDR")

// TimeoutDefault bounds one request, as Java's admin tool does (3 s).
const TimeoutDefault = 3 * time.Second

// Config configures an Admin.
type Config struct {
	// NameServers are tried in order; the next one is asked only when one
	// cannot be reached.
	NameServers []string
	// Timeout bounds each request (TimeoutDefault when zero). Requests that
	// Java gives longer (consume stats, queries, pulls) take a multiple.
	Timeout time.Duration
}

// Admin talks to NameServers and brokers over one netio.Client.
type Admin struct {
	nameServers []string
	timeout     time.Duration
	client      *netio.Client
}

// New returns an Admin; connections are dialed on first use.
func New(cfg Config) (*Admin, error) {
	if len(cfg.NameServers) == 0 {
		return nil, ErrNoNameServer
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = TimeoutDefault
	}
	return &Admin{
		nameServers: cfg.NameServers,
		timeout:     cfg.Timeout,
		client:      netio.NewClient(netio.ClientConfig{DialTimeout: cfg.Timeout, Logger: zerolog.Nop()}),
	}, nil
}

// NameServers returns the configured NameServer addresses.
func (a *Admin) NameServers() []string { return a.nameServers }

// Close closes every connection.
func (a *Admin) Close() error { return a.client.Close() }

// CodeError is a response whose code the caller did not expect.
type CodeError struct {
	Code   int32
	Remark string
}

func (e *CodeError) Error() string {
	if e.Remark == "" {
		return fmt.Sprintf("%s (%d)", CodeName(e.Code), e.Code)
	}
	return fmt.Sprintf("%s (%d): %s", CodeName(e.Code), e.Code, e.Remark)
}

// IsCode reports whether err is a *CodeError with the given code.
func IsCode(err error, code int32) bool {
	var ce *CodeError
	return errors.As(err, &ce) && ce.Code == code
}

// peer names the other side in transport errors.
type peer string

const (
	nameServer peer = "name server"
	brokerPeer peer = "broker"
)

// invoke sends cmd to addr under a timeout of scale × a.timeout and returns
// the response whatever its code; transport failures are described by peer
// and address.
func (a *Admin) invoke(ctx context.Context, who peer, addr string, cmd *remoting.Command, scale int) (*remoting.Command, error) {
	timeout := a.timeout * time.Duration(scale)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := a.client.Invoke(ctx, addr, cmd)
	if err != nil {
		return nil, transportError(who, addr, cmd.Code, timeout, err)
	}
	return resp, nil
}

// transportError turns a netio failure into one readable clause.
func transportError(who peer, addr string, code int32, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, netio.ErrDial):
		return fmt.Errorf("connect to %s %s: %w", who, addr, dialCause(err))
	case errors.Is(err, netio.ErrTimeout):
		return fmt.Errorf("%s %s: no answer to request %d within %s", who, addr, code, timeout)
	case errors.Is(err, netio.ErrClosed):
		return fmt.Errorf("%s %s closed the connection", who, addr)
	}
	return fmt.Errorf("%s %s: %w", who, addr, err)
}

// dialCause digs the operating system's reason out of a dial error
// ("connection refused", "i/o timeout") instead of netio's full chain.
func dialCause(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err
	}
	return err
}

// invokeOK is invoke that also requires SUCCESS.
func (a *Admin) invokeOK(ctx context.Context, who peer, addr string, cmd *remoting.Command, scale int) (*remoting.Command, error) {
	resp, err := a.invoke(ctx, who, addr, cmd, scale)
	if err != nil {
		return nil, err
	}
	if resp.Code != remoting.RespSuccess {
		return nil, &CodeError{Code: resp.Code, Remark: resp.Remark}
	}
	return resp, nil
}

// broker sends a request to a broker and requires SUCCESS.
func (a *Admin) broker(ctx context.Context, addr string, cmd *remoting.Command) (*remoting.Command, error) {
	return a.invokeOK(ctx, brokerPeer, addr, cmd, 1)
}

// namesrv sends a request to the first reachable NameServer and requires
// SUCCESS. An error code is final; only transport failures move on to the
// next address (as Java's client does).
func (a *Admin) namesrv(ctx context.Context, code int32, ext map[string]string, body []byte) (*remoting.Command, error) {
	var lastErr error
	for _, addr := range a.nameServers {
		resp, err := a.invoke(ctx, nameServer, addr, remoting.NewRequest(code, ext, body), 1)
		if err != nil {
			lastErr = err
			continue
		}
		if resp.Code != remoting.RespSuccess {
			return nil, &CodeError{Code: resp.Code, Remark: resp.Remark}
		}
		return resp, nil
	}
	return nil, lastErr
}
