package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/rs/zerolog"
)

// debugServer serves Go's net/http/pprof handlers (profiles, goroutine
// dumps and /debug/pprof/trace, the execution trace that shows where a slow
// request waited: runnable, GC, syscall, mailbox) on the address of the
// -debug-addr flag. It is off by default and costs nothing then; RocketMQ's
// broker has no such endpoint, so the flag is actormq's own.
//
// The handlers go on a mux of their own, served only on the flag's
// listener. (Linking net/http/pprof still registers them on
// http.DefaultServeMux in its init, but mqbroker serves that mux nowhere.)
// Rejected: serving http.DefaultServeMux, which exposes whatever any linked
// package registered there.
type debugServer struct {
	srv  *http.Server
	addr net.Addr      // where it listens (the port picked for ":0")
	done chan struct{} // closed when Serve returned
}

// startDebugServer listens on addr (e.g. 127.0.0.1:6060) at once, so a bad
// address fails the start, and serves on a goroutine that stop waits for.
func startDebugServer(addr string, log zerolog.Logger) (*debugServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	d := &debugServer{srv: &http.Server{Handler: mux}, addr: ln.Addr(), done: make(chan struct{})}
	go func() { // tracked: stop waits for done
		defer close(d.done)
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("debug server stopped")
		}
	}()
	return d, nil
}

// stop closes the listener and every debug connection (a trace being
// streamed is cut off) and waits until Serve returned.
func (d *debugServer) stop() {
	_ = d.srv.Close()
	<-d.done
}
