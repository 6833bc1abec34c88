package config

import (
	"net"
	"strconv"
	"time"
)

// DefaultNamesrv returns the NameServer defaults. Unlike the broker's, they
// have no derived fields, so they are also the config before anything is
// read.
func DefaultNamesrv() Namesrv {
	return Namesrv{
		ListenPort:                  9876,
		BindAddress:                 "0.0.0.0",
		KVConfigPath:                homePath("namesrv", "kvConfig.json"),
		ScanNotActiveBrokerInterval: 10 * time.Second,
		BrokerChannelExpiredTime:    120 * time.Second,
		EnableAllTopicList:          true,
	}
}

// ListenAddress is where the NameServer listens: ListenAddr when set, else
// BindAddress:ListenPort.
func (n Namesrv) ListenAddress() string {
	if n.ListenAddr != "" {
		return n.ListenAddr
	}
	return net.JoinHostPort(n.BindAddress, strconv.Itoa(n.ListenPort))
}

// LoadNamesrv reads the NameServer config: defaults, then the .properties
// file at path (none when empty), then overrides, then Validate. Unknown
// keys come back as warnings.
func LoadNamesrv(path string, overrides map[string]string) (Namesrv, []string, error) {
	n := DefaultNamesrv()
	warnings, err := load(n.fields(), path, overrides)
	if err != nil {
		return Namesrv{}, warnings, err
	}
	if err := n.Validate(); err != nil {
		return Namesrv{}, warnings, err
	}
	return n, warnings, nil
}

func (n *Namesrv) fields() []field {
	ms := time.Millisecond
	return []field{
		{key: "listenPort", val: intVal[int]{&n.ListenPort, 0, 65535}},
		{key: "bindAddress", val: strVal{&n.BindAddress}, zeroIsDefault: true},
		{key: "kvConfigPath", val: strVal{&n.KVConfigPath}, zeroIsDefault: true},
		{key: "scanNotActiveBrokerInterval", val: durVal{&n.ScanNotActiveBrokerInterval, ms}, zeroIsDefault: true},
		{key: "brokerChannelExpiredTime", val: durVal{&n.BrokerChannelExpiredTime, ms}, zeroIsDefault: true},
		{key: "enableAllTopicList", val: boolVal{&n.EnableAllTopicList}},
		{key: "orderMessageEnable", val: boolVal{&n.OrderMessageEnable}},
	}
}

// Validate fills zero fields whose zero value is meaningless (bindAddress,
// kvConfigPath, the scan interval and the expiry time) and checks every value. ListenPort
// 0 is kept: it picks a free port.
func (n *Namesrv) Validate() error {
	def := DefaultNamesrv()
	return checkFields(n.fields(), def.fields())
}

// Properties lists the effective config as RocketMQ key=value pairs in the
// units of the file, sorted by key (the `-p` printout and GET_NAMESRV_CONFIG).
func (n Namesrv) Properties() []KV { return listFields(n.fields()) }
