package body

import (
	"errors"
	"fmt"
	"strings"
)

// ErrIllegalName is wrapped by topic and group validation failures.
var ErrIllegalName = errors.New("body: illegal name")

// Limits on names (wire doc §10.1).
const (
	TopicBytesMax      = 127 // client topics; V1 records carry a 1-byte topic length
	RetryTopicBytesMax = 255
	GroupBytesMax      = 255 // the Go client allows 255; Java's broker checks 120
)

// Well-known topics and prefixes.
const (
	DefaultTopic     = "TBW102"
	RetryGroupPrefix = "%RETRY%"
	DLQGroupPrefix   = "%DLQ%"
	ScheduleTopic    = "SCHEDULE_TOPIC_XXXX"
	TransHalfTopic   = "RMQ_SYS_TRANS_HALF_TOPIC"
	TransOpHalfTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
	SelfTestTopic    = "SELF_TEST_TOPIC"
	OffsetMovedTopic = "OFFSET_MOVED_EVENT"
	ReplyTopicSuffix = "_REPLY_TOPIC" // <cluster>_REPLY_TOPIC, request-reply responses
	TransSystemGroup = "CID_RMQ_SYS_TRANS"
)

// notSendableTopics are system topics clients may not send to (NO_PERMISSION).
var notSendableTopics = map[string]bool{
	ScheduleTopic: true, TransHalfTopic: true, TransOpHalfTopic: true,
	"TRANS_CHECK_MAX_TIME_TOPIC": true, SelfTestTopic: true, OffsetMovedTopic: true,
}

// IsNotSendable reports whether clients are forbidden to send to topic.
func IsNotSendable(topic string) bool { return notSendableTopics[topic] }

// RetryTopic is the retry topic of a consumer group.
func RetryTopic(group string) string { return RetryGroupPrefix + group }

// DLQTopic is the dead-letter topic of a consumer group.
func DLQTopic(group string) string { return DLQGroupPrefix + group }

// DLQTopicConfig is the config of a dead-letter topic created on first use
// (wire doc §14): one queue, readable (operators and DLQ consumers read it)
// and writable.
func DLQTopicConfig(topic string) TopicConfig {
	return TopicConfig{
		TopicName: topic, ReadQueueNums: 1, WriteQueueNums: 1,
		Perm: PermRead | PermWrite, Attributes: map[string]string{},
	}
}

// ValidateTopic checks a topic name: non-blank, characters [%|a-zA-Z0-9_-],
// at most 127 bytes (255 for retry and DLQ topics).
func ValidateTopic(topic string) error {
	max := TopicBytesMax
	if strings.HasPrefix(topic, RetryGroupPrefix) || strings.HasPrefix(topic, DLQGroupPrefix) {
		max = RetryTopicBytesMax
	}
	return validateName("topic", topic, max)
}

// ValidateGroup checks a group name like a topic name, up to 255 bytes.
func ValidateGroup(group string) error { return validateName("group", group, GroupBytesMax) }

func validateName(kind, name string, max int) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: the specified %s is blank", ErrIllegalName, kind)
	}
	if len(name) > max {
		return fmt.Errorf("%w: the specified %s is longer than %d characters", ErrIllegalName, kind, max)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '%' || c == '|' || c == '_' || c == '-' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("%w: the specified %s %q contains illegal characters, allowing only ^[%%|a-zA-Z0-9_-]+$", ErrIllegalName, kind, name)
		}
	}
	return nil
}
