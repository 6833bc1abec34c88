package schedule

import (
	"fmt"
	"maps"
	"time"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/storage/metadata"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// offsetFile is delayOffset.json and the GET_ALL_DELAY_OFFSET body
// (storage-format.md §8): level → next queue offset of SCHEDULE_TOPIC_XXXX
// queue level−1. Java writes the integer keys unquoted ({1:12}); DecodeJSON
// reads both forms, and the quoted keys written here are what fastjson
// reads too.
//
//	{"offsetTable":{"1":12,"2":0,…},"dataVersion":{"stateVersion":0,"timestamp":ms,"counter":n}}
type offsetFile struct {
	OffsetTable map[int32]int64  `json:"offsetTable"`
	DataVersion body.DataVersion `json:"dataVersion"`
}

// Messages the offsets actor receives.
type (
	// offsetsRequest is GET_ALL_DELAY_OFFSET, answered on conn.
	offsetsRequest struct {
		conn interface {
			Write(*remoting.Command) error
		}
		cmd *remoting.Command
	}
	// persistRequest: write the file now; answered with okReply or the error.
	persistRequest struct{}
	okReply        struct{}
	flushTick      struct{}
)

// load reads delayOffset.json into s.committed and s.extra and returns its
// data version. A missing file is a first start: every level at 0.
// Goroutine: Spawn, before any actor runs.
func (s *Scheduler) load() (body.DataVersion, error) {
	var f offsetFile
	found, err := metadata.LoadInto(s.cfg.FS, s.path, func(b []byte) error {
		f = offsetFile{}
		return body.DecodeJSON(b, &f)
	})
	if err != nil {
		return body.DataVersion{}, fmt.Errorf("%w: %s: %w", ErrLoad, FileName, err)
	}
	s.extra = make(map[int32]int64)
	for n, off := range f.OffsetTable {
		switch {
		case n < 1 || off < 0:
			s.log.Warn().Int32("level", n).Int64("offset", off).Msg("invalid delay offset entry ignored")
		case int(n) <= len(s.committed):
			s.committed[n-1].Store(off)
		default:
			s.extra[n] = off
		}
	}
	if found {
		s.log.Info().Interface("offsets", f.OffsetTable).Msg("delay offsets loaded")
	}
	return f.DataVersion, nil
}

// offsetsActor owns delayOffset.json. It reads the offsets the level actors
// publish and writes them when they changed: every
// flushDelayOffsetInterval, on request (Stop) and when it stops.
type offsetsActor struct {
	s       *Scheduler
	version body.DataVersion
	saved   map[int32]int64 // the table in the file; nil before the first write
	timer   *time.Timer
}

func (a *offsetsActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.arm(ctx)
	case flushTick:
		a.flush("periodic")
		a.arm(ctx)
	case persistRequest:
		if err := a.persist(); err != nil {
			ctx.Respond(err)
			return
		}
		ctx.Respond(okReply{})
	case *offsetsRequest:
		resp := remoting.NewResponse(m.cmd, remoting.RespSuccess, "")
		resp.Body = body.EncodeJSON(offsetFile{OffsetTable: a.s.Offsets(), DataVersion: a.version})
		if resp.Body == nil {
			resp = reply.Error(m.cmd, reply.Errorf(reply.ErrSystem, "encode delay offsets failed"))
		}
		_ = m.conn.Write(resp)
	case *actor.Restarting:
		a.stopTimer()
		a.flush("restart")
	case *actor.Stopping:
		a.stopTimer()
		a.flush("stop")
	case *actor.Stopped:
		close(a.s.offsetsDone)
	}
}

// arm schedules the next periodic flush (a one-shot runtime timer that Sends
// a tick; Stopping cancels it).
func (a *offsetsActor) arm(ctx actor.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	a.timer = time.AfterFunc(a.s.cfg.Broker.FlushDelayOffsetInterval, func() { root.Send(self, flushTick{}) })
}

func (a *offsetsActor) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
	}
}

// flush persists and logs a failure: the periodic and stop paths have no
// caller to tell, and the next tick retries with newer offsets.
func (a *offsetsActor) flush(why string) {
	if err := a.persist(); err != nil {
		a.s.log.Error().Err(err).Str("why", why).Msg("cannot persist delay offsets")
	}
}

// persist writes the table when it differs from the file (atomic replace
// through storage/metadata).
func (a *offsetsActor) persist() error {
	table := a.s.Offsets()
	if a.saved != nil && maps.Equal(table, a.saved) {
		return nil
	}
	version := a.version.Next()
	if err := metadata.Save(a.s.cfg.FS, a.s.path, body.EncodeJSON(offsetFile{OffsetTable: table, DataVersion: version})); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrPersist, FileName, err)
	}
	a.version, a.saved = version, table
	return nil
}
