package namesrv

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/wire/remoting"
)

func TestKVConfig(t *testing.T) {
	var path string
	s := testServer(t, func(c *config.Namesrv) { path = c.KVConfigPath })
	cli := newPeer(t, s)
	kv := func(ns, k string) map[string]string { return map[string]string{"namespace": ns, "key": k} }

	cli.mustCode(cli.invoke(remoting.ReqGetKVConfig, kv("NS", "k"), nil), remoting.RespQueryNotFound)
	cli.mustCode(cli.invoke(remoting.ReqPutKVConfig, map[string]string{"namespace": "NS", "key": "k", "value": "v1"}, nil), remoting.RespSuccess)
	cli.mustCode(cli.invoke(remoting.ReqPutKVConfig, map[string]string{"namespace": "NS", "key": "k2", "value": "v2"}, nil), remoting.RespSuccess)
	resp := cli.invoke(remoting.ReqGetKVConfig, kv("NS", "k"), nil)
	if resp.Code != 0 || resp.ExtFields["value"] != "v1" {
		t.Fatalf("get: %d %v", resp.Code, resp.ExtFields)
	}
	resp = cli.invoke(remoting.ReqGetKVListByNamespace, map[string]string{"namespace": "NS"}, nil)
	if resp.Code != 0 || string(resp.Body) != `{"table":{"k":"v1","k2":"v2"}}` {
		t.Fatalf("list: %d %s", resp.Code, resp.Body)
	}
	cli.mustCode(cli.invoke(remoting.ReqDeleteKVConfig, kv("NS", "k"), nil), remoting.RespSuccess)
	cli.mustCode(cli.invoke(remoting.ReqGetKVConfig, kv("NS", "k"), nil), remoting.RespQueryNotFound)
	cli.mustCode(cli.invoke(remoting.ReqGetKVListByNamespace, map[string]string{"namespace": "NONE"}, nil), remoting.RespQueryNotFound)
	cli.mustCode(cli.invoke(remoting.ReqPutKVConfig, map[string]string{"namespace": "NS", "key": "k"}, nil), remoting.RespSystemError)

	// Persisted atomically, no temp file left.
	got, err := loadKV(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, kvTable{"NS": {"k2": "v2"}}) {
		t.Fatalf("file = %v", got)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("tmp file: %v", err)
	}
	// A new server on the same file sees the value.
	s2 := testServer(t, func(c *config.Namesrv) { c.KVConfigPath = path })
	c2 := newPeer(t, s2)
	if resp := c2.invoke(remoting.ReqGetKVConfig, kv("NS", "k2"), nil); resp.ExtFields["value"] != "v2" {
		t.Fatalf("after restart: %d %v", resp.Code, resp.ExtFields)
	}
}

func TestKVPersistFailureKeepsOldValue(t *testing.T) {
	var path string
	s := testServer(t, func(c *config.Namesrv) { path = c.KVConfigPath })
	cli := newPeer(t, s)
	put := func(v string) *remoting.Command {
		return cli.invoke(remoting.ReqPutKVConfig, map[string]string{"namespace": "NS", "key": "k", "value": v}, nil)
	}
	cli.mustCode(put("v1"), remoting.RespSuccess)
	// Make the directory unusable: a regular file takes its place.
	dir := filepath.Dir(path)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp := put("v2")
	if resp.Code != remoting.RespSystemError || !strings.Contains(resp.Remark, "not persisted") {
		t.Fatalf("put on a broken dir: %d %q", resp.Code, resp.Remark)
	}
	resp = cli.invoke(remoting.ReqGetKVConfig, map[string]string{"namespace": "NS", "key": "k"}, nil)
	if resp.ExtFields["value"] != "v1" {
		t.Fatalf("value after failed put = %v", resp.ExtFields)
	}
}

func TestOrderTopicConf(t *testing.T) {
	s := testServer(t, func(c *config.Namesrv) { c.OrderMessageEnable = true })
	brk, cli := newPeer(t, s), newPeer(t, s)
	cli.mustCode(cli.invoke(remoting.ReqPutKVConfig, map[string]string{
		"namespace": orderTopicNamespace, "key": "T1", "value": "broker-a:4"}, nil), remoting.RespSuccess)
	resp := brk.register(b1)
	if string(resp.Body) != `{"table":{"T1":"broker-a:4"}}` {
		t.Fatalf("register answer body = %s", resp.Body)
	}
	if r := string(cli.route("T1").Body); !strings.HasPrefix(r, `{"orderTopicConf":"broker-a:4","queueDatas":`) {
		t.Fatalf("route = %s", r)
	}
}

func TestStartFailsOnCorruptKVFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kvConfig.json")
	if err := os.WriteFile(path, []byte(`{"configTable":`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(config.Namesrv{ListenAddr: "127.0.0.1:0", KVConfigPath: path}, zerolog.Nop())
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Start = %v, want an error naming %s", err, path)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown after failed Start = %v", err)
	}
}
