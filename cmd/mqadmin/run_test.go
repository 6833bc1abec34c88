package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

func TestExitCodesAndErrorLines(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	t.Setenv("NAMESRV_ADDR", "")

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string // the first stderr line
		oneLine    bool   // stderr is exactly that line
	}{
		{name: "missing required flag", args: []string{"topicRoute", "-n", dead}, wantCode: exitUsage,
			wantStderr: `mqadmin: topicRoute: required flag(s) "topic" not set`},
		{name: "neither broker nor cluster", args: []string{"updateTopic", "-n", dead, "-t", "T"}, wantCode: exitUsage,
			wantStderr: "mqadmin: updateTopic: at least one of the flags in the group [brokerAddr clusterName] is required"},
		{name: "unknown command", args: []string{"noSuchCommand"}, wantCode: exitUsage,
			wantStderr: `mqadmin: unknown command "noSuchCommand" for "mqadmin"`},
		{name: "bad boolean", args: []string{"updateTopic", "-n", dead, "-t", "T", "-b", dead, "-o", "maybe"}, wantCode: exitUsage,
			wantStderr: `mqadmin: updateTopic: --order: want true or false, got "maybe"`},
		{name: "queue without broker", args: []string{"sendMessage", "-n", dead, "-t", "T", "-p", "x", "-i", "1"}, wantCode: exitUsage,
			wantStderr: "mqadmin: sendMessage: --qid needs --broker: a queue id names a queue of one broker"},
		{name: "no name server", args: []string{"topicList"}, wantCode: exitFailure, oneLine: true,
			wantStderr: "mqadmin: topicList: no name server address: set -n or NAMESRV_ADDR"},
		{name: "unreachable name server", args: []string{"clusterList", "-n", dead}, wantCode: exitFailure, oneLine: true,
			wantStderr: "mqadmin: clusterList: connect to name server " + dead + ": connection refused"},
		{name: "unreachable broker", args: []string{"brokerStatus", "-n", dead, "-b", dead}, wantCode: exitFailure, oneLine: true,
			wantStderr: "mqadmin: brokerStatus: connect to broker " + dead + ": connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.wantCode, stderr.String())
			}
			if first, _, _ := strings.Cut(stderr.String(), "\n"); first != tc.wantStderr {
				t.Fatalf("stderr %q, want first line %q", stderr.String(), tc.wantStderr)
			}
			if tc.oneLine && stderr.String() != tc.wantStderr+"\n" {
				t.Fatalf("stderr is not one line: %q", stderr.String())
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout %q on failure", stdout.String())
			}
		})
	}
}

func TestNameServersFromFlagOrEnvironment(t *testing.T) {
	t.Setenv("NAMESRV_ADDR", "10.0.0.1:9876; 10.0.0.2:9876")
	r := newRoot()
	if got := strings.Join(r.nameServers(), ","); got != "10.0.0.1:9876,10.0.0.2:9876" {
		t.Fatalf("from NAMESRV_ADDR: %s", got)
	}
	r.namesrv = "127.0.0.1:1"
	if got := strings.Join(r.nameServers(), ","); got != "127.0.0.1:1" {
		t.Fatalf("-n wins: %s", got)
	}
}

func TestEveryCommandIsThere(t *testing.T) {
	want := []string{"clusterList", "topicList", "topicRoute", "topicStatus", "updateTopic", "deleteTopic",
		"updateSubGroup", "deleteSubGroup", "consumerProgress", "consumerConnection", "queryMsgById",
		"queryMsgByKey", "queryMsgByOffset", "resetOffsetByTime", "brokerStatus", "getBrokerConfig",
		"updateBrokerConfig", "sendMessage", "printMsg"}
	r := newRoot()
	for _, name := range want {
		c, _, err := r.Find([]string{name})
		if err != nil || c.Name() != name {
			t.Errorf("command %s missing: %v", name, err)
		}
	}
}
