package meta

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

func newSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(sys.Shutdown)
	return sys
}

func testBroker(dir string) config.Broker {
	return config.Broker{
		BrokerClusterName:           "DefaultCluster",
		BrokerName:                  "broker-a",
		StorePathRootDir:            dir,
		AutoCreateTopicEnable:       true,
		AutoCreateSubscriptionGroup: true,
		DefaultTopicQueueNums:       8,
	}
}

func spawnMeta(t *testing.T, sys *actor.ActorSystem, cfg config.Broker, fs vfs.FS) *Metadata {
	t.Helper()
	m, err := Spawn(sys, Config{Broker: cfg, FS: fs, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return m
}

func stopMeta(t *testing.T, m *Metadata) {
	t.Helper()
	if err := m.Stop(ctxT(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dispatch is the tiny router the handler tests put in front of Handlers().
type dispatch map[int32]func(*netio.Conn, *remoting.Command)

func (d dispatch) OnRequest(c *netio.Conn, cmd *remoting.Command) {
	if h := d[cmd.Code]; h != nil {
		h(c, cmd)
		return
	}
	_ = c.Write(remoting.NewResponse(cmd, remoting.RespRequestCodeNotSupported, "not supported"))
}

func (d dispatch) OnClose(*netio.Conn) {}

// serve starts a server on 127.0.0.1:0 dispatching to h and a client; it
// returns an invoke function bound to the server address.
func serve(t *testing.T, h map[int32]func(*netio.Conn, *remoting.Command)) func(cmd *remoting.Command) *remoting.Command {
	t.Helper()
	srv := netio.NewServer(netio.ServerConfig{Addr: "127.0.0.1:0", EventLoops: 1, Logger: zerolog.Nop()}, dispatch(h))
	if err := srv.Start(); err != nil {
		t.Fatalf("server start: %v", err)
	}
	cli := netio.NewClient(netio.ClientConfig{Logger: zerolog.Nop()})
	t.Cleanup(func() {
		_ = cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return func(cmd *remoting.Command) *remoting.Command {
		t.Helper()
		resp, err := cli.Invoke(ctxT(t), srv.Addr(), cmd)
		if err != nil {
			t.Fatalf("invoke code %d: %v", cmd.Code, err)
		}
		return resp
	}
}

// errFS fails every write of a file whose name contains substr once armed.
type errFS struct {
	vfs.FS
	substr string
	armed  atomic.Bool
}

var errInjected = errors.New("injected write failure")

func (f *errFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	if f.armed.Load() && flag&os.O_WRONLY != 0 && strings.Contains(name, f.substr) {
		return nil, errInjected
	}
	return f.FS.OpenFile(name, flag, perm)
}
