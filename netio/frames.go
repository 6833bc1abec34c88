package netio

import (
	"github.com/actormq/actormq/wire/remoting"
)

// inbound is the part of gnet.Conn's Reader that frame cutting needs; tests
// and the fuzz target feed it from a plain buffer.
type inbound interface {
	InboundBuffered() int
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// cutFrames decodes every complete frame buffered in in and hands each
// command to deliver, in order. A frame not wholly buffered is moved into
// partial (partial.go) and completed from the next calls' bytes before any
// later frame is cut, so in holds nothing when cutFrames returns nil. It
// returns an error wrapping remoting.ErrFrame when a length prefix is out of
// range (below 4, or a total above frameBytesMax) or a header does not
// decode; the caller closes the connection then (and OnClose releases
// partial).
//
// Peeked bytes are only valid until Discard and only during the event (gnet's
// Reader contract), so DecodeFrame copies what the command keeps before the
// frame is discarded, or partial's buffer is released; deliver owns the
// command (a send request's copy is a pooled frame that its last owner
// releases: remoting.Command.Release).
func cutFrames(in inbound, partial *partialFrame, frameBytesMax int, deliver func(*remoting.Command)) error {
	for {
		if partial.pending() {
			done, err := partial.fill(in, frameBytesMax)
			if err != nil || !done {
				return err // on error the connection closes; OnClose releases partial
			}
			cmd, err := remoting.DecodeFrame(partial.frame)
			partial.release()
			if err != nil {
				return err
			}
			deliver(cmd)
			continue
		}
		buffered := in.InboundBuffered()
		if buffered == 0 {
			return nil
		}
		if buffered < 4 {
			_, err := partial.fill(in, frameBytesMax)
			return err
		}
		prefix, err := in.Peek(4)
		if err != nil {
			return nil // cannot happen with 4 bytes buffered; wait for more
		}
		size, err := remoting.FrameLength(prefix, frameBytesMax)
		if err != nil {
			return err
		}
		if buffered < size {
			_, err := partial.fill(in, frameBytesMax)
			return err
		}
		frame, err := in.Peek(size)
		if err != nil {
			return nil
		}
		cmd, err := remoting.DecodeFrame(frame)
		_, _ = in.Discard(size)
		if err != nil {
			return err
		}
		deliver(cmd)
	}
}

// dispatch routes one decoded command of a server connection: responses
// complete a server-initiated Invoke, requests go to the handler. Runs on the
// connection's loop.
func (c *conn) dispatch(cmd *remoting.Command) {
	if cmd.IsResponse() {
		c.complete(cmd)
		return
	}
	c.requests++
	c.srv.h.OnRequest(c.pub, cmd)
}
