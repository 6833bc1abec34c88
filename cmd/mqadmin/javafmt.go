package main

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The helpers below render values the way RocketMQ's Java tool prints them
// (UtilAll, PermName, MQVersion, HashMap/Arrays.toString), so mqadmin's
// output has the same shape.

// humanTime2 is UtilAll.timeMillisToHumanString2: local time,
// "yyyy-MM-dd HH:mm:ss,SSS".
func humanTime2(ms int64) string {
	return time.UnixMilli(ms).Format("2006-01-02 15:04:05,000")
}

// dateTime is the "yyyy-MM-dd HH:mm:ss" pattern in local time.
func dateTime(ms int64) string {
	return time.UnixMilli(ms).Format("2006-01-02 15:04:05")
}

// parseTimestamp reads milliseconds since the epoch or a local
// "yyyy-MM-dd#HH:mm:ss:SSS" (UtilAll.YYYY_MM_DD_HH_MM_SS_SSS, the form
// resetOffsetByTime and printMsg accept). Go's layouts only know '.' or ','
// before fractional seconds, so the milliseconds are cut off first.
func parseTimestamp(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	bad := fmt.Errorf("timestamp %q: want milliseconds or yyyy-MM-dd#HH:mm:ss:SSS", s)
	i := strings.LastIndexByte(s, ':')
	if i < 0 || len(s)-i-1 != 3 {
		return 0, bad
	}
	ms, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return 0, bad
	}
	t, err := time.ParseInLocation("2006-01-02#15:04:05", s[:i], time.Local)
	if err != nil {
		return 0, bad
	}
	return t.UnixMilli() + int64(ms), nil
}

// frontString is UtilAll.frontStringAtLeast: s cut to at most n characters.
func frontString(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// permString is PermName.perm2String: R, W and X (inherit) positions.
func permString(perm int32) string {
	b := []byte("---")
	if perm&4 != 0 {
		b[0] = 'R'
	}
	if perm&2 != 0 {
		b[1] = 'W'
	}
	if perm&1 != 0 {
		b[2] = 'X'
	}
	return string(b)
}

// versionNames lists MQVersion.Version by ordinal: sixteen 3.0.0
// pre-releases, then a SNAPSHOT and a release entry for each version from
// 3.0.1 to 5.9.9 (3.0.x runs to 15, 3.3–3.9 start at 1, every other minor
// runs 0–9), then HIGHER_VERSION.
var versionNames = func() []string {
	names := []string{"V3_0_0_SNAPSHOT", "V3_0_0_ALPHA1"}
	for i := 1; i <= 5; i++ {
		names = append(names, fmt.Sprintf("V3_0_0_BETA%d", i))
	}
	for i := 6; i <= 9; i++ {
		names = append(names, fmt.Sprintf("V3_0_0_BETA%d_SNAPSHOT", i), fmt.Sprintf("V3_0_0_BETA%d", i))
	}
	names = append(names, "V3_0_0_FINAL")
	for major := 3; major <= 5; major++ {
		for minor := 0; minor <= 9; minor++ {
			first, last := 0, 9
			switch {
			case major == 3 && minor == 0:
				first, last = 1, 15
			case major == 3 && minor >= 3:
				first = 1
			}
			for patch := first; patch <= last; patch++ {
				v := fmt.Sprintf("V%d_%d_%d", major, minor, patch)
				names = append(names, v+"_SNAPSHOT", v)
			}
		}
	}
	return append(names, "HIGHER_VERSION")
}()

// versionDesc is MQVersion.getVersionDesc: the name of a version ordinal;
// ordinals past the table name the last entry.
func versionDesc(ordinal int32) string {
	switch {
	case ordinal < 0:
		return strconv.Itoa(int(ordinal))
	case int(ordinal) >= len(versionNames):
		return versionNames[len(versionNames)-1]
	}
	return versionNames[ordinal]
}

// javaMap renders a string map as Java's HashMap.toString, keys sorted
// (Java's order is the hash order, which carries no meaning).
func javaMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// javaBytes renders bytes as Arrays.toString(byte[]): signed decimals.
func javaBytes(p []byte) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, c := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(int(int8(c))))
	}
	b.WriteByte(']')
	return b.String()
}

// socketAddr renders a host as InetSocketAddress.toString ("/ip:port").
func socketAddr(a netip.AddrPort) string { return "/" + hostPort(a) }

// hostPort renders a host as RemotingHelper.parseSocketAddressAddr
// ("ip:port"), IPv4-mapped addresses unmapped.
func hostPort(a netip.AddrPort) string {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()).String()
}

// javaBool reads a Java-style boolean option value ("true"/"false", any
// case); anything else is an error rather than Java's silent false.
func javaBool(flag, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, usageErrorf("--%s: want true or false, got %q", flag, s)
}
