package meta

import (
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/vfs"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

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
	if err := m.Stop(testkit.Context(t)); err != nil {
		t.Fatalf("Stop: %v", err)
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
