package queue

import (
	"strings"
	"testing"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// FuzzFilterExpression checks that any subscription expression builds a
// filter, or fails as SUBSCRIPTION_PARSE_FAILED (SQL92 only), without
// panicking, and that every listed tag matches.
func FuzzFilterExpression(f *testing.F) {
	for _, s := range []string{"*", "", "TagA", "TagA || TagB", " a ||| b ||", "||", "a > 5", "标签"} {
		f.Add(s, "TAG")
	}
	f.Add("a > 5", "SQL92")
	f.Add("a >", "sql92")
	var cache sqlCache
	f.Fuzz(func(t *testing.T, expr, exprType string) {
		fl, err := filterFromExpression(expr, exprType, &cache)
		if err != nil {
			if !isSQL92(exprType) || reply.CodeOf(err) != remoting.RespSubscriptionParseFailed {
				t.Fatalf("%q (%s): %v", expr, exprType, err)
			}
			return
		}
		if isSQL92(exprType) != (fl.sql != nil) {
			t.Fatalf("%q (%s): sql filter %v", expr, exprType, fl.sql)
		}
		if fl.all {
			return
		}
		for tag := range strings.SplitSeq(expr, "||") {
			if tag = strings.TrimSpace(tag); tag != "" && !fl.match(message.TagsHashCode(tag)) {
				t.Fatalf("tag %q of %q does not match", tag, expr)
			}
		}
	})
}

// FuzzPullHeader checks that any header values parse or fail cleanly, and
// that a header that parses keeps the values it was given.
func FuzzPullHeader(f *testing.F) {
	f.Add("cg", "TopicTest", "0", "0", "32", "2", "-1", "20000", "0")
	f.Add("", "", "x", "9999999999999999999999", "-1", "", "", "", "")
	f.Fuzz(func(t *testing.T, group, topic, qid, off, maxNums, sysFlag, commit, suspend, subVersion string) {
		cmd := remoting.NewRequest(remoting.ReqPullMessage, map[string]string{
			"consumerGroup": group, "topic": topic, "queueId": qid, "queueOffset": off, "maxMsgNums": maxNums,
			"sysFlag": sysFlag, "commitOffset": commit, "suspendTimeoutMillis": suspend, "subVersion": subVersion,
		}, nil)
		h, err := parsePullHeader(cmd)
		if err != nil {
			return
		}
		if h.group != group || h.topic != topic {
			t.Fatalf("parsed group %q topic %q from %q %q", h.group, h.topic, group, topic)
		}
	})
}
