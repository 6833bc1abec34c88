// Package netio owns the network: the gnet server that turns bytes into
// remoting commands and back, and the client transport brokers and tools use.
//
// Both sides cut the byte stream into remoting frames (wire/remoting owns the
// layout; shared/docs/wire-protocol.md §1):
//
//	offset  size       field
//	0       4          length: bytes that follow this field (4 + headerLen + bodyLen)
//	4       1          serializeType: 0 JSON, 1 ROCKETMQ binary
//	5       3          headerLen (24 bit)
//	8       headerLen  header
//	8+hl    rest       body
//
// A frame whose length field is below 4, whose total size exceeds the
// configured FrameBytesMax, or whose header does not decode closes the
// connection (as Java's NettyDecoder does): the stream can no longer be
// trusted to be aligned on frame boundaries.
//
// Requests and responses share one connection in both directions and are
// matched by opaque; flag bit 0 tells them apart. Each side keeps its own
// opaque counter for the requests it originates, so the two directions never
// collide.
package netio

import (
	"errors"

	"github.com/actormq/actormq/wire/remoting"
)

// ErrClosed is returned for writes and invokes on a closed connection or client.
var ErrClosed = errors.New("netio: connection closed")

// ErrTimeout is wrapped when an invoke's deadline passes.
var ErrTimeout = errors.New("netio: request timed out")

// ErrStarted is returned by Server.Start when called more than once.
var ErrStarted = errors.New("netio: server already started")

// ErrConfig is wrapped by config validation failures.
var ErrConfig = errors.New("netio: invalid config")

// Handler receives decoded requests from a Server.
//
// Goroutine contract: a Server with several event loops calls OnRequest
// concurrently for connections on different loops; for one connection the
// calls are serialized, in arrival order, on that connection's loop.
type Handler interface {
	// OnRequest runs on a gnet event-loop goroutine and must not block: hand
	// the command to an actor with a non-blocking Send. It takes ownership of
	// cmd (its Body is a private copy, never a view of a gnet buffer).
	OnRequest(c *Conn, cmd *remoting.Command)
	// OnClose runs once, on the event loop, after the connection closed.
	// Writes on c fail with ErrClosed from then on.
	OnClose(c *Conn)
}

// TrafficDoneHandler is optionally implemented by a Handler that batches
// inbound work: it collects requests in OnRequest and hands them on in
// TrafficDone, one message carrying a slice instead of one per request.
//
// The server calls TrafficDone on the connection's event loop after
// OnRequest ran for every complete frame of one read (one gnet OnTraffic),
// once per read that delivered at least one request; a read that completed
// no request (a partial frame, or only responses to the server's own
// Invokes) does not call it. It is also called when framing broke after some
// good frames, before the connection closes. Like OnRequest it must not
// block. Writes made in OnRequest and TrafficDone on this connection leave in
// one flush right after TrafficDone returns.
type TrafficDoneHandler interface {
	TrafficDone(c *Conn)
}
