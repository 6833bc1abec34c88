package writer

import (
	"github.com/actormq/actormq/wire/remoting"
	"github.com/valyala/bytebufferpool"
)

// msgIDBytesMax is the longest offset message id (IPv6 store host).
const msgIDBytesMax = 56

// sendAnswerBytes is the out-frame class of a single send's answer: about
// 260 B, 304 with a transactionId.
const sendAnswerBytes = 512

// successFrame encodes the SendMessageResponseHeader of a stored send
// straight into a pooled buffer: no Command, map or string per send (a
// single message's id is written from its offset into a scratch array), and
// the fields every answer shares encoded once (remoting.SendResponseEncoder).
func (w *Writer) successFrame(p *Append, code int32) *bytebufferpool.ByteBuffer {
	var idBuf [msgIDBytesMax]byte
	r := w.sendResponse(p, code, idBuf[:0])
	buf := remoting.NewOutFrame(sendAnswerBytes)
	buf.B = w.answers.Append(buf.B[:0], &r)
	return buf
}

// sendResponse is the success answer of a stored append; a single record's
// id goes into scratch.
func (w *Writer) sendResponse(p *Append, code int32, scratch []byte) remoting.SendResponse {
	r := remoting.SendResponse{
		Code: code, Opaque: p.Req.Opaque, MsgID: p.msgID(scratch, w),
		QueueID: p.ReplyQueueID, QueueOffset: p.queueOffset, TransactionID: p.UniqKey,
	}
	if code == remoting.RespFlushDiskTimeout {
		r.Remark = "flush disk timeout"
	}
	return r
}

// msgID returns the offset message id of a stored append: its records' ids
// comma-joined (appendOne built them in p.ids), or the one record's id
// appended to scratch. Empty when nothing was stored.
func (p *Append) msgID(scratch []byte, w *Writer) []byte {
	switch {
	case len(p.Tags) > 1:
		return p.ids
	case p.end > 0:
		return w.idPrefix.Append(scratch, p.phys)
	}
	return scratch
}

// answer writes p's response, runs p.Done and recycles p (nobody holds it
// after this). code is the success code to use when p has no error
// (SUCCESS or FLUSH_DISK_TIMEOUT). Writer or flush actor.
func (w *Writer) answer(p *Append, code int32) {
	defer p.release()
	if p.Result != nil {
		var idBuf [msgIDBytesMax]byte
		p.Result(PutResult{
			Err: p.err, FlushTimeout: code == remoting.RespFlushDiskTimeout,
			MsgID: string(p.msgID(idBuf[:0], w)), QueueOffset: p.queueOffset, PhysOffset: p.phys,
		})
		if p.Done != nil {
			p.Done()
		}
		return
	}
	var err error
	var fw frameBodyWriter // a batch message's answer goes out of answerframe.go's pool
	if p.err == nil && len(p.Tags) > 1 {
		fw, _ = p.Conn.(frameBodyWriter)
	}
	switch {
	case p.err != nil:
		err = p.Conn.Write(w.ErrorResponse(p.Req, p.err))
	case fw != nil:
		err = w.answerBatch(fw, p, code)
	default:
		err = p.Conn.WriteFrame(w.successFrame(p, code))
	}
	if err != nil {
		w.log.Debug().Err(err).Msg("send response not written")
	}
	if p.Done != nil {
		p.Done()
	}
}
