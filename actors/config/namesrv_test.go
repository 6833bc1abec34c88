package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadNamesrv(t *testing.T) {
	t.Setenv("HOME", "/home/mq")
	tests := []struct {
		name    string
		text    string
		want    Namesrv
		wantErr string
	}{
		{name: "defaults", text: "", want: Namesrv{ListenPort: 9876, BindAddress: "0.0.0.0", KVConfigPath: "/home/mq/namesrv/kvConfig.json",
			ScanNotActiveBrokerInterval: 10 * time.Second, BrokerChannelExpiredTime: 120 * time.Second, EnableAllTopicList: true}},
		{name: "all keys", text: "listenPort=19876\nbindAddress=127.0.0.1\nkvConfigPath= /kv/kv.json \nscanNotActiveBrokerInterval=500\n" +
			"brokerChannelExpiredTime=3000\nenableAllTopicList=false\norderMessageEnable=true\n",
			want: Namesrv{ListenPort: 19876, BindAddress: "127.0.0.1", KVConfigPath: "/kv/kv.json", ScanNotActiveBrokerInterval: 500 * time.Millisecond,
				BrokerChannelExpiredTime: 3 * time.Second, OrderMessageEnable: true}},
		{name: "bad port", text: "listenPort=98760\n", wantErr: `listenPort="98760"`},
		{name: "bad bool", text: "orderMessageEnable=1\n", wantErr: `orderMessageEnable="1"`},
		{name: "bad interval", text: "scanNotActiveBrokerInterval=5s\n", wantErr: `scanNotActiveBrokerInterval="5s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, warnings, err := LoadNamesrv(writeConf(t, tt.text), nil)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(warnings) != 0 {
				t.Fatalf("err=%v warnings=%v", err, warnings)
			}
			if n != tt.want {
				t.Fatalf("got %+v\nwant %+v", n, tt.want)
			}
		})
	}
}

func TestNamesrvUnknownKeyAndListing(t *testing.T) {
	t.Setenv("HOME", "/home/mq")
	n, warnings, err := LoadNamesrv(writeConf(t, "rocketmqHome=/opt\nlistenPort=9877\n"), map[string]string{"orderMessageEnable": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"rocketmqHome"`) {
		t.Fatalf("warnings = %v", warnings)
	}
	want := "bindAddress=0.0.0.0\n" +
		"brokerChannelExpiredTime=120000\n" +
		"enableAllTopicList=true\n" +
		"kvConfigPath=/home/mq/namesrv/kvConfig.json\n" +
		"listenPort=9877\n" +
		"orderMessageEnable=true\n" +
		"scanNotActiveBrokerInterval=10000\n"
	if got := Format(n.Properties()); got != want {
		t.Fatalf("listing:\n%s\nwant:\n%s", got, want)
	}
}

func TestNamesrvValidateFillsZero(t *testing.T) {
	t.Setenv("HOME", "/home/mq")
	n := Namesrv{ListenAddr: "127.0.0.1:0"}
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	if n.ScanNotActiveBrokerInterval != 10*time.Second || n.BrokerChannelExpiredTime != 120*time.Second ||
		n.KVConfigPath != "/home/mq/namesrv/kvConfig.json" || n.ListenPort != 0 || n.BindAddress != "0.0.0.0" {
		t.Fatalf("got %+v", n)
	}
	if got := n.ListenAddress(); got != "127.0.0.1:0" {
		t.Fatalf("ListenAddress = %q", got)
	}
	n.ListenAddr, n.ListenPort = "", 9876
	if got := n.ListenAddress(); got != "0.0.0.0:9876" {
		t.Fatalf("ListenAddress = %q", got)
	}
}
