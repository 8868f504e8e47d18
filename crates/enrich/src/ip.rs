//! What an address is, before any lookup.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a source address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AddressClass {
    /// A globally routable address: worth enriching.
    Public,
    /// RFC 1918 / RFC 4193 unique local.
    Private,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 169.254.0.0/16, `fe80::/10`.
    LinkLocal,
    /// 100.64.0.0/10 (RFC 6598).
    CarrierGradeNat,
    /// 224.0.0.0/4, `ff00::/8`.
    Multicast,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, `2001:db8::/32`.
    Documentation,
    /// 0.0.0.0, ::.
    Unspecified,
    /// Other special-purpose ranges (0/8, 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4, …).
    Reserved,
    /// An AWS service principal such as `ec2.amazonaws.com`.
    AwsService,
    /// `CloudTrail`'s `AWS Internal`.
    AwsInternal,
    /// Anything else (a host name, a masked value).
    Other,
}

impl AddressClass {
    /// The class name as indexed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Classifies a source address string; returns the parsed IP when it is one.
#[must_use]
pub fn classify(address: &str) -> (AddressClass, Option<IpAddr>) {
    let s = address.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return (classify_ip(ip), Some(ip));
    }
    if s.eq_ignore_ascii_case("AWS Internal") {
        return (AddressClass::AwsInternal, None);
    }
    if s.ends_with(".amazonaws.com") || s.ends_with(".amazonaws.com.cn") || s.ends_with(".aws.internal") {
        return (AddressClass::AwsService, None);
    }
    (AddressClass::Other, None)
}

/// Classifies an IP address (IPv4-mapped IPv6 addresses are classified as IPv4).
#[must_use]
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(|| classify_v6(v6), classify_v4),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if a == 100 && (64..128).contains(&b) {
        AddressClass::CarrierGradeNat
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if ip.is_documentation() {
        AddressClass::Documentation
    } else if a == 0
        || a >= 240
        || (a, b, c) == (192, 0, 0)
        || (a == 198 && (b == 18 || b == 19))
        || (a, b, c) == (192, 88, 99)
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let seg = ip.segments();
    if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if seg[0] & 0xfe00 == 0xfc00 {
        AddressClass::Private
    } else if seg[0] & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        AddressClass::Documentation
    } else if seg[0] & 0xe000 == 0x2000 {
        // 2000::/3 is the global unicast space; 2001::/23 holds special-purpose blocks.
        if seg[0] == 0x2001 && seg[1] < 0x0200 {
            AddressClass::Reserved
        } else {
            AddressClass::Public
        }
    } else {
        AddressClass::Reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let table = [
            ("8.8.8.8", AddressClass::Public),
            ("211.234.10.1", AddressClass::Public),
            ("10.0.0.1", AddressClass::Private),
            ("172.16.5.4", AddressClass::Private),
            ("192.168.1.1", AddressClass::Private),
            ("127.0.0.1", AddressClass::Loopback),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("100.64.0.1", AddressClass::CarrierGradeNat),
            ("100.128.0.1", AddressClass::Public),
            ("224.0.0.251", AddressClass::Multicast),
            ("192.0.2.10", AddressClass::Documentation),
            ("203.0.113.7", AddressClass::Documentation),
            ("0.0.0.0", AddressClass::Unspecified),
            ("240.0.0.1", AddressClass::Reserved),
            ("198.18.0.1", AddressClass::Reserved),
            ("2600:1f18::1", AddressClass::Public),
            ("::1", AddressClass::Loopback),
            ("fd00::1", AddressClass::Private),
            ("fe80::1", AddressClass::LinkLocal),
            ("ff02::1", AddressClass::Multicast),
            ("2001:db8::1", AddressClass::Documentation),
            ("::ffff:10.0.0.1", AddressClass::Private),
            ("::ffff:8.8.8.8", AddressClass::Public),
            ("::", AddressClass::Unspecified),
            ("ec2.amazonaws.com", AddressClass::AwsService),
            ("AWS Internal", AddressClass::AwsInternal),
            ("225.01.00.16", AddressClass::Other),
            ("30.*.0.210", AddressClass::Other),
            ("", AddressClass::Other),
        ];
        for (s, class) in table {
            assert_eq!(classify(s).0, class, "{s}");
        }
    }

    #[test]
    fn parsed_ip_is_returned() {
        assert_eq!(classify(" 1.2.3.4 ").1, Some("1.2.3.4".parse().unwrap()));
        assert_eq!(classify("ec2.amazonaws.com").1, None);
    }
}
