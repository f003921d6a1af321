//! GeoIP enrichment and the geo detections' judgement of consecutive logins.
//!
//! Databases in MaxMind's format (GeoIP2/GeoLite2 City and ASN) are read with the `maxminddb`
//! crate, once, at cold start. Without them, enrichment and the geo detections are off (a log
//! line says so) and nothing else changes.
//!
//! Successful console logins with a known place are kept per user in the state store
//! ([`crate::state::StateStore::record_login`]): each login is compared with the logins just
//! before and just after it *by event time*, so logins delivered out of order, or judged
//! concurrently by different invocations, still make each consecutive pair once. A pair
//! judged twice gives the same finding id, published once by the usual claim.

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where an IP is, as far as the databases know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// English country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    /// English city name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Latitude, degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Autonomous system number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Autonomous system organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
}

impl Place {
    /// "London, GB", "GB", or "an unknown place".
    pub fn describe(&self) -> String {
        match (&self.city, &self.country) {
            (Some(c), Some(k)) => format!("{c}, {k}"),
            (None, Some(k)) => k.clone(),
            (Some(c), None) => c.clone(),
            (None, None) => "an unknown place".to_owned(),
        }
    }

    /// Latitude and longitude, when both are known.
    pub fn point(&self) -> Option<(f64, f64)> {
        Some((self.lat?, self.lon?))
    }
}

/// The City and ASN databases (either may be missing).
pub struct GeoIp {
    city: Option<maxminddb::Reader<Vec<u8>>>,
    asn: Option<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("city", &self.city.is_some())
            .field("asn", &self.asn.is_some())
            .finish()
    }
}

impl GeoIp {
    /// Opens the databases from their bytes (a file of a Lambda layer, an S3 object).
    pub fn from_bytes(city: Option<Vec<u8>>, asn: Option<Vec<u8>>) -> Result<GeoIp, String> {
        let open = |bytes: Vec<u8>, what: &str| {
            maxminddb::Reader::from_source(bytes)
                .map_err(|e| format!("{what} database is not a MaxMind DB: {e}"))
        };
        Ok(GeoIp {
            city: city.map(|b| open(b, "City")).transpose()?,
            asn: asn.map(|b| open(b, "ASN")).transpose()?,
        })
    }

    /// Opens the databases from files.
    pub fn open(city: Option<&Path>, asn: Option<&Path>) -> Result<GeoIp, String> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        GeoIp::from_bytes(city.map(read).transpose()?, asn.map(read).transpose()?)
    }

    /// Whether the City database (places, hence the geo detections) is there.
    pub fn has_city(&self) -> bool {
        self.city.is_some()
    }

    /// The place of `ip`; `None` for addresses the databases do not hold (private ranges,
    /// service names).
    pub fn lookup(&self, ip: &str) -> Option<Place> {
        let addr: IpAddr = ip.parse().ok()?;
        let mut place = Place::default();
        if let Some(city) = self
            .city
            .as_ref()
            .and_then(|r| r.lookup(addr).ok())
            .and_then(|l| l.decode::<maxminddb::geoip2::City>().ok().flatten())
        {
            place.country = city.country.iso_code.map(str::to_owned);
            place.country_name = city.country.names.english.map(str::to_owned);
            place.city = city.city.names.english.map(str::to_owned);
            place.lat = city.location.latitude;
            place.lon = city.location.longitude;
        }
        if let Some(asn) = self
            .asn
            .as_ref()
            .and_then(|r| r.lookup(addr).ok())
            .and_then(|l| l.decode::<maxminddb::geoip2::Asn>().ok().flatten())
        {
            place.asn = asn.autonomous_system_number;
            place.as_org = asn.autonomous_system_organization.map(str::to_owned);
        }
        (place != Place::default()).then_some(place)
    }
}

/// Loads the databases named in the configuration: a path (a Lambda layer's file), or an S3
/// object (`s3://bucket/key`), read once at cold start. `Ok(None)` when none is named: geo
/// enrichment and detections are off, and a log line says so.
pub async fn load(
    s3: &aws_sdk_s3::Client,
    city: Option<&str>,
    asn: Option<&str>,
) -> Result<Option<GeoIp>, String> {
    if city.is_none() && asn.is_none() {
        tracing::info!("no GeoIP database configured: geo enrichment and geo detections are off");
        return Ok(None);
    }
    let city_bytes = match city {
        Some(c) => Some(crate::coldstart::read_location(s3, c).await?),
        None => None,
    };
    let asn_bytes = match asn {
        Some(a) => Some(crate::coldstart::read_location(s3, a).await?),
        None => None,
    };
    let geo = GeoIp::from_bytes(city_bytes, asn_bytes)?;
    if !geo.has_city() {
        tracing::info!("no GeoIP City database: geo detections are off, AS enrichment on");
    }
    Ok(Some(geo))
}

/// Great-circle distance in km (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

/// One successful console login, as kept in the state store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRecord {
    /// Event time, Unix seconds.
    pub ts: i64,
    /// Source IP.
    pub ip: String,
    /// Where the IP is.
    pub place: Place,
}

impl LoginRecord {
    /// The store's sort key: event time in milliseconds plus a few bits of the IP, so two
    /// logins in the same second from different IPs are two items, and the same login stored
    /// twice is one.
    pub fn sort_key(&self) -> i64 {
        let h = self
            .ip
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        self.ts * 1000 + i64::from(h % 1000)
    }
}

/// What the store knows of a user's logins around one login.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoginNeighbours {
    /// The login just before (by event time).
    pub previous: Option<LoginRecord>,
    /// The login just after.
    pub next: Option<LoginRecord>,
    /// Time of the user's first known login.
    pub first_seen: Option<i64>,
    /// Countries of the user's logins before this one.
    pub countries_before: std::collections::BTreeSet<String>,
}

/// The thresholds of the geo detections.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoSettings {
    /// Countries (ISO codes) a login from which is a finding.
    pub deny: Vec<String>,
    /// When not empty, a login from a country outside it is a finding.
    pub allow: Vec<String>,
    /// Speed above which consecutive logins are impossible travel, km/h.
    pub max_speed_kmh: f64,
    /// Distance under which consecutive logins never are, km.
    pub min_distance_km: f64,
    /// History a user needs before a new country is a finding, days.
    pub new_country_history_days: i64,
    /// How long logins are kept, days.
    pub history_days: i64,
}

impl Default for GeoSettings {
    fn default() -> Self {
        GeoSettings {
            deny: Vec::new(),
            allow: Vec::new(),
            max_speed_kmh: 900.0,
            min_distance_km: 100.0,
            new_country_history_days: 7,
            history_days: 90,
        }
    }
}

impl GeoSettings {
    /// Whether a login from `country` breaks the deny or allow list.
    pub fn is_risky(&self, country: &str) -> bool {
        let listed = |list: &[String]| list.iter().any(|c| c.eq_ignore_ascii_case(country));
        listed(&self.deny) || (!self.allow.is_empty() && !listed(&self.allow))
    }
}

/// The judgement of a pair of consecutive logins: distance (km) and speed (km/h), when the
/// pair is impossible travel.
pub fn impossible_travel(a: &LoginRecord, b: &LoginRecord, s: &GeoSettings) -> Option<(f64, f64)> {
    if a.ip == b.ip {
        return None;
    }
    let d = distance_km(a.place.point()?, b.place.point()?);
    if d <= s.min_distance_km {
        return None;
    }
    let hours = (b.ts - a.ts).abs() as f64 / 3600.0;
    // Two logins in the same second from far apart: as fast as it gets.
    let speed = if hours > 0.0 {
        d / hours
    } else {
        f64::INFINITY
    };
    (speed > s.max_speed_kmh).then_some((d, speed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(ts: i64, ip: &str, lat: f64, lon: f64) -> LoginRecord {
        LoginRecord {
            ts,
            ip: ip.into(),
            place: Place {
                lat: Some(lat),
                lon: Some(lon),
                ..Place::default()
            },
        }
    }

    #[test]
    fn distances() {
        let london = (51.5142, -0.0931);
        let milton = (47.2513, -122.3149);
        let d = distance_km(london, milton);
        assert!((7600.0..7800.0).contains(&d), "{d}");
        assert!(distance_km(london, london) < 1e-9);
    }

    #[test]
    fn impossible_travel_needs_speed_distance_and_two_ips() {
        let s = GeoSettings::default();
        let london = login(0, "81.2.69.142", 51.5142, -0.0931);
        let milton = login(3600, "216.160.83.56", 47.2513, -122.3149);
        let (d, v) = impossible_travel(&london, &milton, &s).unwrap();
        assert!(d > 7000.0 && v > 7000.0);
        // A day later is possible by plane.
        let milton_tomorrow = login(86_400, "216.160.83.56", 47.2513, -122.3149);
        assert!(impossible_travel(&london, &milton_tomorrow, &s).is_none());
        // Near places never, however fast.
        let near = login(60, "81.2.69.143", 51.6, -0.1);
        assert!(impossible_travel(&london, &near, &s).is_none());
        // The same IP never (a VPN exit moving in the database, a proxy).
        let same_ip = login(3600, "81.2.69.142", 47.2513, -122.3149);
        assert!(impossible_travel(&london, &same_ip, &s).is_none());
        // Same second, far apart: fires.
        let instant = login(0, "216.160.83.56", 47.2513, -122.3149);
        assert!(impossible_travel(&london, &instant, &s).is_some());
    }

    #[test]
    fn deny_and_allow_lists() {
        let s = GeoSettings {
            deny: vec!["KP".into()],
            ..GeoSettings::default()
        };
        assert!(s.is_risky("kp"));
        assert!(!s.is_risky("GB"));
        let s = GeoSettings {
            allow: vec!["GB".into(), "SE".into()],
            ..GeoSettings::default()
        };
        assert!(!s.is_risky("SE"));
        assert!(s.is_risky("US"));
    }

    #[test]
    fn sort_keys_order_by_time_and_split_same_second_ips() {
        let a = login(100, "81.2.69.142", 0.0, 0.0);
        let b = login(100, "216.160.83.56", 0.0, 0.0);
        let c = login(101, "81.2.69.142", 0.0, 0.0);
        assert_ne!(a.sort_key(), b.sort_key());
        assert!(a.sort_key() < c.sort_key() && b.sort_key() < c.sort_key());
        assert_eq!(a.sort_key(), a.clone().sort_key());
    }
}
