package message

import (
	"slices"
	"strconv"
	"strings"
)

// Properties string (wire-protocol.md §9.1):
//
//	key \x01 value \x02 key \x01 value \x02 ...
//
// Java writes a trailing \x02. Decoding follows Java: split on \x02, split
// each entry at its first \x01, and skip entries without \x01 or with an
// empty key or value. A later duplicate key wins. (The Go client keeps only
// entries with exactly one \x01; we follow Java, the broker's reference.)
const (
	NameValueSeparator = '\x01'
	PropertySeparator  = '\x02'
)

// Property keys (wire-protocol.md §9.1). The broker reads or writes only a
// few of them today; the rest name the keys of features not built yet
// (delay levels, retry/DLQ, transactions, reply messages).
const (
	PropertyKeys                    = "KEYS"
	PropertyTags                    = "TAGS"
	PropertyWait                    = "WAIT"
	PropertyDelay                   = "DELAY"
	PropertyRetryTopic              = "RETRY_TOPIC"
	PropertyRealTopic               = "REAL_TOPIC"
	PropertyRealQueueID             = "REAL_QID"
	PropertyTranMsg                 = "TRAN_MSG"
	PropertyProducerGroup           = "PGROUP"
	PropertyMinOffset               = "MIN_OFFSET"
	PropertyMaxOffset               = "MAX_OFFSET"
	PropertyOriginMessageID         = "ORIGIN_MESSAGE_ID"
	PropertyReconsumeTime           = "RECONSUME_TIME"
	PropertyMsgRegion               = "MSG_REGION"
	PropertyTraceSwitch             = "TRACE_ON"
	PropertyUniqKey                 = "UNIQ_KEY"
	PropertyMaxReconsumeTimes       = "MAX_RECONSUME_TIMES"
	PropertyConsumeStartTime        = "CONSUME_START_TIME"
	PropertyCheckImmunityTime       = "CHECK_IMMUNITY_TIME_IN_SECONDS"
	PropertyTranPreparedQueueOffset = "TRAN_PREPARED_QUEUE_OFFSET"
	PropertyTransactionID           = "__transactionId__"
	PropertyTransactionCheckTimes   = "TRANSACTION_CHECK_TIMES"
	PropertyInstanceID              = "INSTANCE_ID"
	PropertyCorrelationID           = "CORRELATION_ID"
	PropertyReplyToClient           = "REPLY_TO_CLIENT"
	PropertyTTL                     = "TTL"
	PropertyArriveTime              = "ARRIVE_TIME"
	PropertyPushReplyTime           = "PUSH_REPLY_TIME"
	PropertyCluster                 = "CLUSTER"
	PropertyMsgType                 = "MSG_TYPE"
	PropertyShardingKey             = "__SHARDINGKEY"
	PropertyDLQOriginTopic          = "DLQ_ORIGIN_TOPIC"
	PropertyDLQOriginMessageID      = "DLQ_ORIGIN_MESSAGE_ID"
	PropertyTimerDelaySec           = "TIMER_DELAY_SEC"
	PropertyTimerDelayMs            = "TIMER_DELAY_MS"
	PropertyTimerDeliverMs          = "TIMER_DELIVER_MS"
	PropertyStartDeliverTime        = "__STARTDELIVERTIME"
	PropertyCRC32                   = "__CRC32#"
	PropertyTransientPrefix         = "__RMQ.TRANSIENT."
)

// ParseProperties decodes a properties string into a new map (never nil).
// Keys and values are substrings of s.
func ParseProperties(s string) map[string]string {
	m := make(map[string]string, strings.Count(s, "\x02")+1)
	for entry := range strings.SplitSeq(s, "\x02") {
		if k, v, ok := splitEntry(entry); ok {
			m[k] = v
		}
	}
	return m
}

// splitEntry splits one key\x01value entry by Java's rules.
func splitEntry(entry string) (string, string, bool) {
	i := strings.IndexByte(entry, NameValueSeparator)
	if i <= 0 || i == len(entry)-1 {
		return "", "", false
	}
	return entry[:i], entry[i+1:], true
}

// FormatProperties encodes props in sorted key order (deterministic output)
// with Java's trailing \x02; nil or empty gives "". Keys and values must
// not contain \x01 or \x02, and an entry with an empty key or value will
// not survive ParseProperties.
func FormatProperties(props map[string]string) string {
	if len(props) == 0 {
		return ""
	}
	keys := make([]string, 0, len(props))
	n := 0
	for k, v := range props {
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	var sb strings.Builder
	sb.Grow(n)
	for _, k := range keys {
		sb.WriteString(k)
		sb.WriteByte(NameValueSeparator)
		sb.WriteString(props[k])
		sb.WriteByte(PropertySeparator)
	}
	return sb.String()
}

// EachProperty calls f with every entry of s that ParseProperties keeps, in
// order, duplicates included (the last one is the one the map holds):
// one pass for a reader that needs several keys, without a map.
func EachProperty(s string, f func(key, value string)) {
	for len(s) > 0 {
		entry := s
		if i := strings.IndexByte(s, PropertySeparator); i >= 0 {
			entry, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if k, v, ok := splitEntry(entry); ok {
			f(k, v)
		}
	}
}

// IndexedKeys returns the UNIQ_KEY and KEYS values of the properties s,
// the two the message index indexes (the last duplicate wins, as in the
// map), in one pass. The index reads them from a stored record, the writer
// from a broker-built message (actors/writer Put): both must find the same.
func IndexedKeys(s string) (uniq, keys string) {
	EachProperty(s, func(k, v string) {
		switch k {
		case PropertyUniqKey:
			uniq = v
		case PropertyKeys:
			keys = v
		}
	})
	return uniq, keys
}

// PropertyValue returns the value ParseProperties(s)[key] would hold,
// scanning s without building a map or allocating.
func PropertyValue(s, key string) (string, bool) {
	if !validKey(key) {
		return "", false
	}
	var val string
	found := false
	for len(s) > 0 {
		entry := s
		if i := strings.IndexByte(s, PropertySeparator); i >= 0 {
			entry, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if v, ok := entryValue(entry, key); ok {
			val, found = v, true // a later duplicate wins, as in the map
		}
	}
	return val, found
}

// entryValue returns the value of entry when its key is key (key must be
// valid: non-empty, no separators).
func entryValue(entry, key string) (string, bool) {
	if len(entry) > len(key)+1 && entry[len(key)] == NameValueSeparator && entry[:len(key)] == key {
		return entry[len(key)+1:], true
	}
	return "", false
}

func validKey(key string) bool {
	return key != "" && strings.IndexByte(key, NameValueSeparator) < 0 && strings.IndexByte(key, PropertySeparator) < 0
}

// RemoveProperty returns s without the entries ParseProperties would map to
// key. Other entries, including ones it would skip, are kept in order. It
// returns s itself when nothing matches.
func RemoveProperty(s, key string) string {
	if _, ok := PropertyValue(s, key); !ok {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	rest := s
	for len(rest) > 0 {
		entry := rest
		sep := false
		if i := strings.IndexByte(rest, PropertySeparator); i >= 0 {
			entry, rest, sep = rest[:i], rest[i+1:], true
		} else {
			rest = ""
		}
		if _, ok := entryValue(entry, key); ok {
			continue
		}
		sb.WriteString(entry)
		if sep {
			sb.WriteByte(PropertySeparator)
		}
	}
	return sb.String()
}

// SetProperty returns s with key set to value: existing entries for key are
// removed and key\x01value\x02 is appended (after adding the \x02 a
// non-empty s may lack). The caller keeps key and value free of separators
// and value non-empty.
func SetProperty(s, key, value string) string {
	s = RemoveProperty(s, key)
	var sb strings.Builder
	sb.Grow(len(s) + len(key) + len(value) + 3)
	sb.WriteString(s)
	if s != "" && s[len(s)-1] != PropertySeparator {
		sb.WriteByte(PropertySeparator)
	}
	sb.WriteString(key)
	sb.WriteByte(NameValueSeparator)
	sb.WriteString(value)
	sb.WriteByte(PropertySeparator)
	return sb.String()
}

// DelayLevel reads the DELAY property (the delay level of a message); 0 when
// absent or not a number, which Java treats as no delay.
func DelayLevel(properties string) int {
	v, ok := PropertyValue(properties, PropertyDelay)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}
