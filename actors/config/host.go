package config

import (
	"net"
	"os"
	"sync"
)

// hostName is the default brokerName: the host name, or DEFAULT_BROKER as
// Java uses when the name is unknown. Looked up once per process.
var hostName = sync.OnceValue(func() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "DEFAULT_BROKER"
})

// firstIPv4 is the default brokerIP1: the first IPv4 address of an up,
// non-loopback interface (link-local addresses skipped), else 127.0.0.1.
// Looked up once per process.
var firstIPv4 = sync.OnceValue(func() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP.To4()
			if ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				continue
			}
			return ip.String()
		}
	}
	return "127.0.0.1"
})
