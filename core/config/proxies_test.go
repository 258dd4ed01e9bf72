package config

import (
	"net/netip"
	"testing"
)

// The hand-read addresses agree with net/netip, the judge: what parses,
// and which addresses each prefix contains.
func TestProxyAddressesAsNetip(t *testing.T) {
	texts := []string{"127.0.0.1", "10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0", "255.255.255.255", "192.168.1.1/32", "::1", "::", "::/0",
		"2001:db8::/32", "2001:db8::1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1", "::ffff:10.0.0.0/104", "1::", "1::8",
		"01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/08", "::1/129", "1:2:3:4:5:6:7:8:9",
		"1:::2", ":1", "1:", "::1::", "12345::", "g::", "", "1.2.3.4/", "fe80::1%eth0", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", " 1.2.3.4"}
	addrs := []string{"127.0.0.1", "127.0.0.2", "10.200.3.4", "10.1.9.9", "11.0.0.1", "::1", "::2", "2001:db8::5", "2001:db9::5",
		"::ffff:10.0.0.1", "::ffff:10.9.9.9", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "192.168.1.1", "0.0.0.0"}
	for _, s := range texts {
		got, ok := parsePrefix(s)
		want, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil && a.Zone() == "" {
				want, err = netip.PrefixFrom(a, a.BitLen()), nil
			}
		}
		if ok != (err == nil) {
			t.Errorf("%q: parsed %v, netip %v", s, ok, err)
			continue
		}
		if !ok {
			continue
		}
		for _, as := range addrs {
			a, _, _ := parseAddr(as)
			na := netip.MustParseAddr(as)
			// Unmapped, as the config had it with net/netip: a mapped
			// prefix of at least 96 bits is an IPv4 one.
			pre := want
			if pre.Addr().Is4In6() && pre.Bits() >= 96 {
				pre = netip.PrefixFrom(pre.Addr().Unmap(), pre.Bits()-96)
			}
			in := pre.Masked().Contains(na.Unmap())
			if got.contains(a) != in {
				t.Errorf("%q contains %q: %v, netip %v", s, as, got.contains(a), in)
			}
		}
	}
}
