package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func writeConf(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "broker.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadBrokerKeyTypes(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		check func(b Broker) bool
	}{
		{name: "string trimmed", text: "brokerName =  broker-a  \n",
			check: func(b Broker) bool { return b.BrokerName == "broker-a" }},
		{name: "int", text: "listenPort=20911\n",
			check: func(b Broker) bool { return b.ListenPort == 20911 && b.HAListenPort == 20912 }},
		{name: "int64", text: "mappedFileSizeCommitLog=10485760\n",
			check: func(b Broker) bool { return b.MapedFileSizeCommitLog == 10485760 }},
		{name: "send in-flight bound", text: "sendThreadPoolQueueCapacity=50000\n",
			check: func(b Broker) bool { return b.SendThreadPoolQueueCapacity == 50000 }},
		{name: "old maped spelling", text: "mapedFileSizeCommitLog=4096\n",
			check: func(b Broker) bool { return b.MapedFileSizeCommitLog == 4096 }},
		{name: "int32", text: "defaultTopicQueueNums=4\n",
			check: func(b Broker) bool { return b.DefaultTopicQueueNums == 4 }},
		{name: "bool false", text: "autoCreateTopicEnable=false\n",
			check: func(b Broker) bool { return !b.AutoCreateTopicEnable }},
		{name: "bool true any case", text: "slaveReadEnable=TRUE\n",
			check: func(b Broker) bool { return b.SlaveReadEnable }},
		{name: "milliseconds", text: "flushIntervalCommitLog=250\n",
			check: func(b Broker) bool { return b.FlushIntervalCommitLog == 250*time.Millisecond }},
		{name: "hours", text: "fileReservedTime=48\n",
			check: func(b Broker) bool { return b.FileReservedTime == 48*time.Hour }},
		{name: "enum role", text: "brokerRole=SYNC_MASTER\n",
			check: func(b Broker) bool { return b.BrokerRole == RoleSyncMaster }},
		{name: "enum flush", text: "flushDiskType=SYNC_FLUSH\n",
			check: func(b Broker) bool { return b.FlushDiskType == FlushSync }},
		{name: "deleteWhen list", text: "deleteWhen=04;16\n",
			check: func(b Broker) bool { return reflect.DeepEqual(b.DeleteWhen, []int{4, 16}) }},
		{name: "colon separator", text: "brokerClusterName:C1\n",
			check: func(b Broker) bool { return b.BrokerClusterName == "C1" }},
		{name: "blank separator", text: "brokerClusterName C2\n",
			check: func(b Broker) bool { return b.BrokerClusterName == "C2" }},
		{name: "comments and continuation", text: "# c\n! c\nmessageDelayLevel=1s \\\n   5s\n",
			check: func(b Broker) bool { return b.MessageDelayLevel == "1s 5s" }},
		{name: "no expansion", text: "regionId=${x}\n",
			check: func(b Broker) bool { return b.RegionID == "${x}" }},
		{name: "master forces id 0", text: "brokerId=3\nbrokerRole=ASYNC_MASTER\n",
			check: func(b Broker) bool { return b.BrokerID == 0 }},
		{name: "slave keeps id", text: "brokerId=2\nbrokerRole=SLAVE\n",
			check: func(b Broker) bool { return b.BrokerID == 2 && b.BrokerRole == RoleSlave }},
		{name: "register period clamped low", text: "registerNameServerPeriod=1000\n",
			check: func(b Broker) bool { return b.RegisterNameServerPeriod == 10*time.Second }},
		{name: "register period clamped high", text: "registerNameServerPeriod=600000\n",
			check: func(b Broker) bool { return b.RegisterNameServerPeriod == 60*time.Second }},
		{name: "cq size rounded up to 20", text: "mappedFileSizeConsumeQueue=1001\n",
			check: func(b Broker) bool { return b.MapedFileSizeConsumeQueue == 1020 }},
		{name: "commitlog under root", text: "storePathRootDir=/data/s\n",
			check: func(b Broker) bool { return b.StorePathCommitLog == "/data/s/commitlog" }},
		{name: "explicit commitlog", text: "storePathRootDir=/data/s\nstorePathCommitLog=/fast/cl\n",
			check: func(b Broker) bool { return b.StorePathCommitLog == "/fast/cl" }},
		{name: "explicit ha port", text: "listenPort=20911\nhaListenPort=30000\n",
			check: func(b Broker) bool { return b.HAListenPort == 30000 }},
		{name: "brokerIP2 follows brokerIP1", text: "brokerIP1=10.1.2.3\n",
			check: func(b Broker) bool { return b.BrokerIP2 == "10.1.2.3" }},
		{name: "namesrv list", text: "namesrvAddr=127.0.0.1:9876;127.0.0.2:9876\n",
			check: func(b Broker) bool {
				return reflect.DeepEqual(b.NamesrvAddrs(), []string{"127.0.0.1:9876", "127.0.0.2:9876"})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, warnings, err := LoadBroker(writeConf(t, tt.text), nil)
			if err != nil {
				t.Fatalf("LoadBroker: %v", err)
			}
			if len(warnings) != 0 {
				t.Fatalf("warnings: %v", warnings)
			}
			if !tt.check(b) {
				t.Fatalf("unexpected config: %+v", b)
			}
		})
	}
}

func TestLoadBrokerInvalidValuesNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // substring of the error
	}{
		{name: "non-numeric int", text: "listenPort=abc\n", want: `listenPort="abc"`},
		{name: "trailing space on number", text: "listenPort=10911 \n", want: `listenPort="10911 "`},
		{name: "port out of range", text: "listenPort=70000\n", want: `listenPort="70000"`},
		{name: "unknown role", text: "brokerRole=FOO\n", want: `brokerRole="FOO"`},
		{name: "unknown flush type", text: "flushDiskType=sync\n", want: `flushDiskType="sync"`},
		{name: "negative size", text: "maxMessageSize=-1\n", want: `maxMessageSize="-1"`},
		{name: "negative cq size", text: "mapedFileSizeConsumeQueue=-20\n", want: `mapedFileSizeConsumeQueue="-20"`},
		{name: "negative duration", text: "syncFlushTimeout=-5\n", want: `syncFlushTimeout="-5"`},
		{name: "bad bool", text: "traceOn=yes\n", want: `traceOn="yes"`},
		{name: "bool with trailing space", text: "traceOn=true \n", want: `traceOn="true "`},
		{name: "hour out of range", text: "deleteWhen=04;24\n", want: `deleteWhen="04;24"`},
		{name: "hour not a number", text: "deleteWhen=4am\n", want: `deleteWhen="4am"`},
		{name: "slave without id", text: "brokerRole=SLAVE\n", want: `brokerId="0"`},
		{name: "namesrv without port", text: "namesrvAddr=127.0.0.1\n", want: `namesrvAddr="127.0.0.1"`},
		{name: "permission too big", text: "brokerPermission=8\n", want: `brokerPermission="8"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := LoadBroker(writeConf(t, tt.text), nil)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadBrokerUnknownKeyWarns(t *testing.T) {
	b, warnings, err := LoadBroker(writeConf(t, "rocketmqHome=/opt/rmq\nbrokerName=b1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"rocketmqHome"`) {
		t.Fatalf("warnings = %v", warnings)
	}
	if b.BrokerName != "b1" {
		t.Fatalf("brokerName = %q", b.BrokerName)
	}
}

func TestLoadBrokerOverridesAfterFile(t *testing.T) {
	t.Setenv("NAMESRV_ADDR", "10.0.0.9:9876")
	path := writeConf(t, "namesrvAddr=10.0.0.1:9876\nlistenPort=20911\n")
	b, _, err := LoadBroker(path, map[string]string{"namesrvAddr": "127.0.0.1:9876"})
	if err != nil {
		t.Fatal(err)
	}
	if b.NamesrvAddr != "127.0.0.1:9876" || b.ListenPort != 20911 {
		t.Fatalf("namesrvAddr=%q listenPort=%d", b.NamesrvAddr, b.ListenPort)
	}
	if _, _, err := LoadBroker("", map[string]string{"listenPort": "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad override: err = %v", err)
	}
}

func TestLoadBrokerDefaults(t *testing.T) {
	t.Setenv("NAMESRV_ADDR", "10.0.0.9:9876")
	t.Setenv("HOME", "/home/mq")
	b, warnings, err := LoadBroker("", nil)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("err=%v warnings=%v", err, warnings)
	}
	host, _ := os.Hostname()
	want := map[string]any{
		"BrokerName":         host,
		"NamesrvAddr":        "10.0.0.9:9876",
		"StorePathRootDir":   "/home/mq/store",
		"StorePathCommitLog": "/home/mq/store/commitlog",
		"ListenPort":         10911,
		"HAListenPort":       10912,
		"BrokerRole":         RoleAsyncMaster,
		"FlushDiskType":      FlushAsync,
		"DeleteWhen":         []int{4},

		"SendThreadPoolQueueCapacity": int64(20000),
	}
	got := reflect.ValueOf(b)
	for name, w := range want {
		if g := got.FieldByName(name).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
	if b.BrokerIP1 == "" || b.BrokerIP2 != b.BrokerIP1 {
		t.Errorf("brokerIP1=%q brokerIP2=%q", b.BrokerIP1, b.BrokerIP2)
	}
	if _, _, err := LoadBroker(filepath.Join(t.TempDir(), "missing.conf"), nil); err == nil {
		t.Fatal("missing file: want an error")
	}
}

func TestValidateFillsZeroFields(t *testing.T) {
	b := Broker{StorePathRootDir: "/s", ListenPort: 0, BrokerIP1: "127.0.0.1"}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.BrokerRole != RoleAsyncMaster || b.MaxMessageSize != 4<<20 || b.BrokerClusterName != "DefaultCluster" ||
		b.MapedFileSizeConsumeQueue != 6000000 || b.HAListenPort != 0 || b.StorePathCommitLog != "/s/commitlog" ||
		b.SendThreadPoolQueueCapacity != 20000 {
		t.Fatalf("unexpected: %+v", b)
	}
	bad := DefaultBroker()
	bad.BrokerRole = "MASTER"
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "brokerRole") {
		t.Fatalf("err = %v", err)
	}
}

func TestBrokerProperties(t *testing.T) {
	t.Setenv("HOME", "/home/mq")
	t.Setenv("NAMESRV_ADDR", "")
	path := writeConf(t, "brokerName=b1\nbrokerIP1=127.0.0.1\nfileReservedTime=48\n"+
		"flushIntervalCommitLog=250\ndeleteWhen=4;16\nmapedFileSizeConsumeQueue=1001\n")
	b, _, err := LoadBroker(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	kvs := b.Properties()
	if !sort.SliceIsSorted(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key }) {
		t.Fatal("not sorted by key")
	}
	got := map[string]string{}
	for _, kv := range kvs {
		if _, dup := got[kv.Key]; dup {
			t.Fatalf("duplicate key %s", kv.Key)
		}
		got[kv.Key] = kv.Value
	}
	want := map[string]string{
		"brokerName":                 "b1",
		"brokerIP1":                  "127.0.0.1",
		"brokerIP2":                  "127.0.0.1",
		"fileReservedTime":           "48",
		"flushIntervalCommitLog":     "250",
		"deleteWhen":                 "04;16",
		"mappedFileSizeConsumeQueue": "1020",
		"mappedFileSizeCommitLog":    "1073741824",
		"maxMessageSize":             "4194304",
		"registerNameServerPeriod":   "30000",
		"haListenPort":               "10912",
		"storePathCommitLog":         "/home/mq/store/commitlog",
		"brokerRole":                 "ASYNC_MASTER",
		"autoCreateTopicEnable":      "true",
		"namesrvAddr":                "",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if _, ok := got["mapedFileSizeConsumeQueue"]; ok {
		t.Error("alias spelling listed")
	}
	// Every printed pair reads back to the same config.
	again, warnings, err := LoadBroker(writeConf(t, Format(kvs)), nil)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("reload: err=%v warnings=%v", err, warnings)
	}
	if !reflect.DeepEqual(again, b) {
		t.Fatalf("reload differs:\n%+v\n%+v", again, b)
	}
}
