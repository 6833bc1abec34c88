// Package cli holds what mqnamesrv and mqbroker share as programs: the
// zerolog setup, fatal start-up errors and the shutdown signals.
package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
)

// Logger returns the process logger: JSON lines on stderr, or the console
// format when stderr is a terminal. ACTORMQ_LOG_LEVEL sets the level (info).
func Logger(process string) zerolog.Logger {
	var w io.Writer = os.Stderr
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		w = zerolog.ConsoleWriter{Out: os.Stderr}
	}
	level, err := zerolog.ParseLevel(strings.ToLower(os.Getenv("ACTORMQ_LOG_LEVEL")))
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("proc", process).Logger()
}

// Fatal prints one clear line to stderr and exits 1.
func Fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// ShutdownSignals subscribes to SIGTERM and SIGINT. Call it before starting
// anything: a signal that arrives between the boot line and the subscription
// would otherwise get the default action and kill the process uncleanly.
func ShutdownSignals() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	return ch
}
