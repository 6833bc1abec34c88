package namesrv

import (
	"context"
	"log/slog"

	"github.com/rs/zerolog"
)

// slogBridge routes protoactor-go's slog output into zerolog, Warn and above
// only: the library logs every start and dead letter at Info, which would
// drown our own logs. Rejected: the library's default tint handler, which
// writes colored text straight to stderr beside our JSON lines.
type slogBridge struct {
	log   zerolog.Logger
	attrs []slog.Attr
	group string
}

var _ slog.Handler = (*slogBridge)(nil)

func (b *slogBridge) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (b *slogBridge) Handle(_ context.Context, r slog.Record) error {
	ev := b.log.Warn()
	if r.Level >= slog.LevelError {
		ev = b.log.Error()
	}
	add := func(a slog.Attr) bool {
		key := a.Key
		if b.group != "" {
			key = b.group + "." + key
		}
		ev = ev.Str(key, a.Value.String())
		return true
	}
	for _, a := range b.attrs {
		add(a)
	}
	r.Attrs(add)
	ev.Msg(r.Message)
	return nil
}

func (b *slogBridge) WithAttrs(attrs []slog.Attr) slog.Handler {
	nb := *b
	nb.attrs = append(append([]slog.Attr(nil), b.attrs...), attrs...)
	return &nb
}

func (b *slogBridge) WithGroup(name string) slog.Handler {
	nb := *b
	if nb.group != "" {
		name = nb.group + "." + name
	}
	nb.group = name
	return &nb
}
