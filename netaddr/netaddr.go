// Package netaddr holds rfadesk's one rule for which hosts count as
// loopback, where plain-text connections (IMAP and SMTP security "none",
// http:// and ws:// to a Discord proxy) are allowed because neither
// credentials nor mail leave the machine. The config package applies it to
// the settings; chat applies it again to every URL it is about to use.
package netaddr

import (
	"net"
	"strings"
)

// IsLoopback reports whether host (a host name or IP literal, without
// port or brackets) is "localhost" in any letter case or a loopback IP
// (127.0.0.0/8, ::1). Names are not resolved: "db.local" is not loopback
// even if it resolves to 127.0.0.1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
