package index

import (
	"strconv"
	"strings"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/commitlog"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

const (
	// queryMaxNumCap is Java's maxMsgsNumBatch: the most offsets one query
	// collects whatever maxNum asks for.
	queryMaxNumCap = 64
	// queryBodyBytesMax keeps a response frame under the 16 MiB that
	// clients accept: records beyond it are left out (the first always
	// fits, being at most maxMessageSize plus its header fields).
	queryBodyBytesMax = 16<<20 - 64<<10
	// uniqueKeyQueryFlag in extFields makes maxNum defaultQueryMaxNum.
	uniqueKeyQueryFlag = "_UNIQUE_KEY_QUERY"
)

// queryReq is one QUERY_MESSAGE; viewReq one VIEW_MESSAGE_BY_ID.
type (
	queryReq struct {
		conn       *netio.Conn
		cmd        *remoting.Command
		topic, key string
		maxNum     int
		begin, end int64
	}
	viewReq struct {
		conn   *netio.Conn
		cmd    *remoting.Command
		offset int64
	}
)

// Handlers returns the request handlers the broker's router serves. They
// run on gnet event loops: they parse the header and Send to the actor.
func (x *Indexer) Handlers() map[int32]func(c *netio.Conn, cmd *remoting.Command) {
	return map[int32]func(c *netio.Conn, cmd *remoting.Command){
		remoting.ReqQueryMessage:    x.handleQuery,
		remoting.ReqViewMessageByID: x.handleView,
	}
}

func (x *Indexer) handleQuery(c *netio.Conn, cmd *remoting.Command) {
	q := &queryReq{conn: c, cmd: cmd}
	var err error
	var maxNum int32
	if q.topic, err = cmd.RequiredString("topic"); err == nil {
		if q.key, err = cmd.RequiredString("key"); err == nil {
			if maxNum, err = cmd.RequiredInt32("maxNum"); err == nil {
				if q.begin, err = cmd.RequiredInt64("beginTimestamp"); err == nil {
					q.end, err = cmd.RequiredInt64("endTimestamp")
				}
			}
		}
	}
	if err != nil {
		reply.WriteError(c, cmd, err)
		return
	}
	q.maxNum = int(maxNum)
	if v, _ := cmd.Ext(uniqueKeyQueryFlag); v == "true" {
		q.maxNum = x.cfg.Broker.DefaultQueryMaxNum
	}
	q.maxNum = min(q.maxNum, queryMaxNumCap)
	if x.admit(c, cmd) {
		x.root.Send(x.pid, q)
	}
}

func (x *Indexer) handleView(c *netio.Conn, cmd *remoting.Command) {
	offset, err := cmd.RequiredInt64("offset")
	if err != nil {
		reply.WriteError(c, cmd, err)
		return
	}
	if x.admit(c, cmd) {
		x.root.Send(x.pid, &viewReq{conn: c, cmd: cmd, offset: offset})
	}
}

// admit counts a request in flight, or answers it at once when the actor
// is gone (SYSTEM_ERROR) or too many wait (SYSTEM_BUSY).
func (x *Indexer) admit(c *netio.Conn, cmd *remoting.Command) bool {
	if x.dead.Load() {
		reply.WriteError(c, cmd, reply.Errorf(reply.ErrSystem, "message index service stopped"))
		return false
	}
	if x.inFlight.Add(1) > queriesInFlightMax {
		x.inFlight.Add(-1)
		reply.WriteError(c, cmd, reply.Errorf(reply.ErrSystemBusy, "too many message queries in flight, try again later"))
		return false
	}
	return true
}

// query answers q: the records at the index's offsets for topic#key whose
// topic and keys match, in commit-log order, as zero-copy slices of the
// commit log released when the write completes.
func (a *indexActor) query(q *queryReq) {
	x := a.x
	defer x.inFlight.Add(-1)
	var lastTime, lastPhy int64
	var offsets []int64
	if x.idx != nil {
		lastTime, lastPhy = x.idx.LastUpdate()
		offsets = x.idx.Query(q.topic, q.key, q.maxNum, q.begin, q.end)
	}
	var recs []commitlog.Slice
	var parts [][]byte
	total := 0
	for _, off := range offsets {
		s, m, err := x.clog.ReadRecord(off, false)
		if err != nil {
			x.log.Debug().Err(err).Int64("offset", off).Msg("indexed offset holds no record")
			continue
		}
		if m.Topic != q.topic || !hasKey(m.Properties, q.key) || (total > 0 && total+len(s.B) > queryBodyBytesMax) {
			s.Release()
			continue
		}
		recs = append(recs, s)
		parts = append(parts, s.B)
		total += len(s.B)
	}
	code, remark := remoting.RespSuccess, ""
	if len(parts) == 0 {
		code, remark = remoting.RespQueryNotFound, "can not find message, maybe time range not correct"
	}
	resp := remoting.NewResponse(q.cmd, code, remark)
	resp.ExtFields = map[string]string{
		"indexLastUpdateTimestamp": strconv.FormatInt(lastTime, 10),
		"indexLastUpdatePhyoffset": strconv.FormatInt(lastPhy, 10),
	}
	if err := q.conn.WriteWithBody(resp, parts, func() { releaseAll(recs) }); err != nil {
		x.log.Debug().Err(err).Msg("query response not written")
	}
}

// view answers v with the record at its offset, or SYSTEM_ERROR when no
// record starts there.
func (a *indexActor) view(v *viewReq) {
	x := a.x
	defer x.inFlight.Add(-1)
	s, _, err := x.clog.ReadRecord(v.offset, false)
	if err != nil {
		x.log.Debug().Err(err).Int64("offset", v.offset).Msg("view by offset: no record")
		reply.WriteError(v.conn, v.cmd, reply.Errorf(reply.ErrSystem, "can not find message by the offset, %d", v.offset))
		return
	}
	resp := remoting.NewResponse(v.cmd, remoting.RespSuccess, "")
	if err := v.conn.WriteWithBody(resp, [][]byte{s.B}, s.Release); err != nil {
		x.log.Debug().Err(err).Msg("view response not written")
	}
}

// hasKey reports whether key is the record's UNIQ_KEY or one of its KEYS.
func hasKey(props, key string) bool {
	if uniq, ok := message.PropertyValue(props, message.PropertyUniqKey); ok && uniq == key {
		return true
	}
	keys, _ := message.PropertyValue(props, message.PropertyKeys)
	for keys != "" {
		var k string
		if k, keys = nextKey(keys); k == key {
			return k != ""
		}
	}
	return false
}

// nextKey splits the first entry off a KEYS value (entries are separated
// by one space, Java's KEY_SEPARATOR; an entry may be empty).
func nextKey(keys string) (key, rest string) {
	if i := strings.IndexByte(keys, ' '); i >= 0 {
		return keys[:i], keys[i+1:]
	}
	return keys, ""
}

func releaseAll(recs []commitlog.Slice) {
	for _, s := range recs {
		s.Release()
	}
}
