package body

import (
	"errors"
	"reflect"
	"testing"
)

// goHeartbeat is the HEART_BEAT body captured from the Go 2.1.2 client
// (wire-protocol.md §8.2), verbatim.
const goHeartbeat = `{"clientID":"192.0.2.2@28835",
 "producerDataSet":[{"groupName":"PG1"}],
 "consumerDataSet":[{"groupName":"CG1","consumeType":"CONSUME_PASSIVELY",
   "messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","unitMode":false,
   "subscriptionDataSet":[{"classFilterMode":false,"topic":"T1","subString":"TagA || TagB",
     "tagsSet":["TagA","TagB"],"codeSet":["2598919","2598920"],
     "subVersion":1795237318589569934,"expressionType":"TAG"}]}]}`

// onsHeartbeat is an ali-ons 3.12.0 style heartbeat: codeSet numbers,
// subVersion in ms, no expressionType.
const onsHeartbeat = `{"clientID":"10.0.0.5@1234","producerDataSet":[],"consumerDataSet":[{"groupName":"GID_X",` +
	`"consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET",` +
	`"unitMode":false,"subscriptionDataSet":[{"classFilterMode":false,"topic":"T2","subString":"TagA",` +
	`"tagsSet":["TagA"],"codeSet":[2598919],"subVersion":1700000000123},` +
	`{"classFilterMode":false,"topic":"%RETRY%GID_X","subString":"*","tagsSet":[],"codeSet":[],"subVersion":1700000000124}]}]}`

func TestDecodeHeartbeatGo(t *testing.T) {
	var h HeartbeatData
	if err := DecodeJSON([]byte(goHeartbeat), &h); err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	want := HeartbeatData{
		ClientID:        "192.0.2.2@28835",
		ProducerDataSet: []ProducerData{{GroupName: "PG1"}},
		ConsumerDataSet: []ConsumerData{{
			GroupName: "CG1", ConsumeType: "CONSUME_PASSIVELY", MessageModel: "CLUSTERING",
			ConsumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
			SubscriptionDataSet: []SubscriptionData{{
				Topic: "T1", SubString: "TagA || TagB", TagsSet: []string{"TagA", "TagB"},
				CodeSet: []int32{2598919, 2598920}, SubVersion: 1795237318589569934, ExpressionType: "TAG",
			}},
		}},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("decoded\n got %+v\nwant %+v", h, want)
	}
	if !h.ConsumerDataSet[0].SubscriptionDataSet[0].IsTagType() {
		t.Fatalf("TAG subscription not tag type")
	}
}

func TestDecodeHeartbeatOns(t *testing.T) {
	var h HeartbeatData
	if err := DecodeJSON([]byte(onsHeartbeat), &h); err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	subs := h.ConsumerDataSet[0].SubscriptionDataSet
	want := []SubscriptionData{
		{Topic: "T2", SubString: "TagA", TagsSet: []string{"TagA"}, CodeSet: []int32{2598919}, SubVersion: 1700000000123},
		{Topic: "%RETRY%GID_X", SubString: "*", TagsSet: []string{}, CodeSet: []int32{}, SubVersion: 1700000000124},
	}
	if !reflect.DeepEqual(subs, want) {
		t.Fatalf("subscriptions\n got %+v\nwant %+v", subs, want)
	}
	for _, s := range subs {
		if !s.IsTagType() {
			t.Fatalf("missing expressionType must mean TAG")
		}
	}
	if h.ProducerDataSet == nil || len(h.ProducerDataSet) != 0 {
		t.Fatalf("producerDataSet = %#v", h.ProducerDataSet)
	}
}

func TestSubscriptionDataFlexibleFields(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    SubscriptionData
		wantErr bool
	}{
		{name: "mixed codeSet", in: `{"codeSet":[1,"-2",2147483647,"-2147483648"]}`, want: SubscriptionData{CodeSet: []int32{1, -2, 2147483647, -2147483648}}},
		{name: "null codeSet", in: `{"codeSet":null,"subVersion":null}`, want: SubscriptionData{}},
		{name: "subVersion string", in: `{"subVersion":"42"}`, want: SubscriptionData{SubVersion: 42}},
		{name: "sql92", in: `{"subString":"a \u003e 5","expressionType":"SQL92"}`, want: SubscriptionData{SubString: "a > 5", ExpressionType: "SQL92"}},
		{name: "codeSet out of int32", in: `{"codeSet":[2147483648]}`, wantErr: true},
		{name: "codeSet not numeric", in: `{"codeSet":["TagA"]}`, wantErr: true},
		{name: "codeSet float", in: `{"codeSet":[1.5]}`, wantErr: true},
		{name: "subVersion bool", in: `{"subVersion":true}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s SubscriptionData
			err := DecodeJSON([]byte(tc.in), &s)
			if tc.wantErr {
				if !errors.Is(err, ErrJSON) {
					t.Fatalf("err = %v, want ErrJSON", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if !reflect.DeepEqual(s, tc.want) {
				t.Fatalf("got %+v, want %+v", s, tc.want)
			}
		})
	}
	if (SubscriptionData{ExpressionType: ExpressionSQL92}).IsTagType() {
		t.Fatalf("SQL92 reported as tag type")
	}
}

// TestHeartbeatRoundTrip checks our encoder's output (codeSet as numbers)
// decodes back to the same value.
func TestHeartbeatRoundTrip(t *testing.T) {
	var h HeartbeatData
	if err := DecodeJSON([]byte(goHeartbeat), &h); err != nil {
		t.Fatal(err)
	}
	var back HeartbeatData
	if err := DecodeJSON(EncodeJSON(&h), &back); err != nil {
		t.Fatalf("decode of encoded: %v", err)
	}
	if !reflect.DeepEqual(back, h) {
		t.Fatalf("round trip\n got %+v\nwant %+v", back, h)
	}
}
