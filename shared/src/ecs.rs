//! The Elastic Common Schema event every source is normalized to.
//!
//! Field sets are nested as ECS requires (`{"event":{"kind":...}}`), and absent values are left
//! out rather than written as `null`. The event borrows from the record it was built from, so
//! normalizing costs no copies of strings; it is serialized, or turned into evidence, only when
//! needed. Source-specific fields live under `aws.<source>`: the `A` of [`EcsEvent`], which the
//! sources define (`crate::sources::Aws`), so this module knows no source. Every other field
//! written here exists in ECS with its type; a test checks that against the ECS field list.

use serde::Serialize;
use serde_json::value::RawValue;

/// One normalized event; `A` is its `aws.*` part.
#[derive(Debug, Serialize, Default)]
pub struct EcsEvent<'r, A> {
    /// When the event happened (the source's own time, RFC 3339).
    #[serde(rename = "@timestamp")]
    pub timestamp: std::borrow::Cow<'r, str>,
    /// `event.*`.
    pub event: Event<'r>,
    /// `cloud.*`.
    pub cloud: Cloud<'r>,
    /// `source.*`: where the request came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Endpoint<'r>>,
    /// `user.*`: who acted, and on whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User<'r>>,
    /// `user_agent.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<UserAgent<'r>>,
    /// `group.*`: the group a call acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupFields>,
    /// `tls.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls<'r>>,
    /// `error.*`: the error the call returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorFields<'r>>,
    /// `related.*`: every user and IP named, for pivots.
    #[serde(skip_serializing_if = "Related::is_empty")]
    pub related: Related<'r>,
    /// `log.*`: the object the record was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<Log<'r>>,
    /// `destination.*`, for network sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Endpoint<'r>>,
    /// `network.*`, for network and web sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// `url.*`, for web sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Url<'r>>,
    /// `http.*`, for web sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Http<'r>>,
    /// `rule.*`: the rule of the observer (a WAF rule, a firewall signature, a control) that
    /// matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<ObserverRule<'r>>,
    /// `observer.*`: the appliance that logged it (a firewall, a WAF).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observer: Option<Observer<'r>>,
    /// `host.id`: the host (an EC2 instance) the event is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<Id<'r>>,
    /// `dns.*`: the name a DNS request asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns<'r>>,
    /// `process.*`: the process a runtime finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<Process<'r>>,
    /// `container.*`: the container a finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container<'r>>,
    /// `entity.*`: the resource a finding is about (a Security Hub finding's first resource).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<Entity<'r>>,
    /// `vulnerability.*`: the vulnerability a finding reports (its first, by Inspector).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<Vulnerability<'r>>,
    /// `threat.indicator.*`: the threat intelligence indicator a finding names (its first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat: Option<Threat<'r>>,
    /// `message`: the source's own description (a GuardDuty or Security Hub finding's title).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'r str>,
    /// `aws.*`: source-specific fields.
    pub aws: A,
}

/// `event.*`.
#[derive(Debug, Serialize, Default)]
pub struct Event<'r> {
    /// `event`, `alert`, ... (ECS allowed values).
    pub kind: &'static str,
    /// ECS categories (allowed values).
    pub category: &'static [&'static str],
    /// ECS types (allowed values, each allowed by one of the categories).
    #[serde(rename = "type")]
    pub kind_types: &'static [&'static str],
    /// `success`, `failure` or `unknown`, where the source tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    /// The API call or action (`eventName`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'r str>,
    /// The service that logged it (`eventSource`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'r str>,
    /// `aws.cloudtrail`, `aws.guardduty`, ...
    pub dataset: &'static str,
    /// Always `aws`.
    pub module: &'static str,
    /// The source's own id of the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'r str>,
    /// The source's own severity, as a number (a firewall alert's 1-3, a GuardDuty finding's
    /// 1-10, its band kept: 6.9 is 6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<i64>,
    /// The source's score on ECS's 0-100 scale (a GuardDuty finding's severity times ten).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_score_norm: Option<f64>,
    /// Where the source explains the event (a Security Hub control's remediation page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'r str>,
    /// When what the event reports began (a GuardDuty finding's first sighting), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// When it was last seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// `cloud.*`.
#[derive(Debug, Serialize)]
pub struct Cloud<'r> {
    /// Always `aws`.
    pub provider: &'static str,
    /// The region the event happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'r str>,
    /// `cloud.account.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account<'r>>,
    /// `cloud.availability_zone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<&'r str>,
    /// `cloud.service.name` (`wafv2`, `guardduty`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service<'r>>,
    /// `cloud.instance.id`: the EC2 instance the event is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<Id<'r>>,
}

/// An object with an id only (`cloud.instance`, `host`).
#[derive(Debug, Serialize)]
pub struct Id<'r> {
    /// The id.
    pub id: &'r str,
}

/// `cloud.service.*`.
#[derive(Debug, Serialize)]
pub struct Service<'r> {
    /// The service's name (`wafv2`, `guardduty`; for CloudTrail, the `eventSource` without
    /// `.amazonaws.com`: `iam`, `s3`).
    pub name: &'r str,
}

impl Default for Cloud<'_> {
    fn default() -> Self {
        Cloud::aws()
    }
}

impl<'r> Cloud<'r> {
    /// `cloud.*` with a provider only.
    pub fn aws() -> Cloud<'r> {
        Cloud {
            provider: "aws",
            region: None,
            account: None,
            availability_zone: None,
            service: None,
            instance: None,
        }
    }
}

/// `cloud.account.*`.
#[derive(Debug, Serialize)]
pub struct Account<'r> {
    /// Twelve-digit account id.
    pub id: &'r str,
}

/// `source.*` (and `destination.*` for network sources).
#[derive(Debug, Serialize, Default)]
pub struct Endpoint<'r> {
    /// The address as logged: an IP, or a service's host name.
    pub address: &'r str,
    /// Set only when the address is an IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<&'r str>,
    /// Port, for network sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The host name the source gives the endpoint (a Security Hub finding's domain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'r str>,
    /// `*.geo.*`: from the source (WAF names a country) or the GeoIP databases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo<'r>>,
    /// `*.as.*`: the autonomous system, from the GeoIP ASN database.
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub autonomous_system: Option<AutonomousSystem>,
}

impl<'r> Endpoint<'r> {
    /// An endpoint at `address`, with `ip` set when the address is an IP.
    pub fn at(address: &'r str) -> Endpoint<'r> {
        Endpoint {
            address,
            ip: address
                .parse::<std::net::IpAddr>()
                .is_ok()
                .then_some(address),
            ..Endpoint::default()
        }
    }
}

/// `*.geo.*`.
#[derive(Debug, Serialize, Default)]
pub struct Geo<'r> {
    /// ISO 3166-1 alpha-2 code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_iso_code: Option<std::borrow::Cow<'r, str>>,
    /// Country name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    /// City name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city_name: Option<String>,
    /// Latitude and longitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
}

/// A `geo_point`.
#[derive(Debug, Serialize, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// `*.as.*`.
#[derive(Debug, Serialize, Default)]
pub struct AutonomousSystem {
    /// The AS number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// `*.as.organization.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<AsOrganization>,
}

/// `*.as.organization.*`.
#[derive(Debug, Serialize)]
pub struct AsOrganization {
    /// The organization's name.
    pub name: String,
}

impl<'r> Endpoint<'r> {
    /// Adds what the GeoIP databases know of this endpoint's IP; a country the source named
    /// itself is kept.
    pub fn enrich(&mut self, geo: &crate::geo::GeoIp) {
        let Some(place) = self.ip.and_then(|ip| geo.lookup(ip)) else {
            return;
        };
        let g = self.geo.get_or_insert_with(Geo::default);
        if g.country_iso_code.is_none() {
            g.country_iso_code = place.country.map(std::borrow::Cow::Owned);
        }
        g.country_name = place.country_name;
        g.city_name = place.city;
        if let (Some(lat), Some(lon)) = (place.lat, place.lon) {
            g.location = Some(GeoPoint { lat, lon });
        }
        if place.asn.is_some() || place.as_org.is_some() {
            self.autonomous_system = Some(AutonomousSystem {
                number: place.asn,
                organization: place.as_org.map(|name| AsOrganization { name }),
            });
        }
    }
}

impl<A> EcsEvent<'_, A> {
    /// Adds geo and AS fields to `source` and `destination` from the GeoIP databases.
    pub fn enrich(&mut self, geo: &crate::geo::GeoIp) {
        if let Some(s) = self.source.as_mut() {
            s.enrich(geo);
        }
        if let Some(d) = self.destination.as_mut() {
            d.enrich(geo);
        }
    }
}

/// `network.*`.
#[derive(Debug, Serialize, Default)]
pub struct Network {
    /// `tcp`, `udp`, `icmp` (lowercase, as ECS asks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// Application protocol (`http`, `tls`, `dns`), lowercase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `ipv4` or `ipv6`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    /// Bytes in both directions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Packets in both directions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
    /// `inbound` or `outbound`, where the source tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    /// The flow's Community ID (`1:<base64>`), for joins with other tools' flow records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<String>,
}

/// `dns.*`.
#[derive(Debug, Serialize)]
pub struct Dns<'r> {
    /// `dns.question.*`.
    pub question: DnsQuestion<'r>,
}

/// `dns.question.*`.
#[derive(Debug, Serialize)]
pub struct DnsQuestion<'r> {
    /// The name asked for, as logged.
    pub name: &'r str,
}

/// `process.*`.
#[derive(Debug, Serialize, Default)]
pub struct Process<'r> {
    /// The executable's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// Its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<&'r str>,
    /// The process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
    /// Its working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<&'r str>,
    /// The source's id of the process (unique where a pid is reused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<&'r str>,
    /// `process.hash.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<Sha256<'r>>,
    /// `process.user.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ProcessUser<'r>>,
    /// `process.parent.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<ProcessParent<'r>>,
}

/// `*.hash.*`.
#[derive(Debug, Serialize)]
pub struct Sha256<'r> {
    /// SHA-256, hex.
    pub sha256: &'r str,
}

/// `process.user.*`.
#[derive(Debug, Serialize)]
pub struct ProcessUser<'r> {
    /// The user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// The user's id (a uid, as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `process.parent.*`.
#[derive(Debug, Serialize)]
pub struct ProcessParent<'r> {
    /// The source's id of the parent process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<&'r str>,
    /// Its process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
}

/// `entity.*`.
#[derive(Debug, Serialize)]
pub struct Entity<'r> {
    /// The resource's ARN or id.
    pub id: std::borrow::Cow<'r, str>,
    /// ECS's class of it (`bucket`, `host`, `user`, `function`, `database`, `queue`,
    /// `container`), where the source's type maps to one.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The source's own type (`AwsS3Bucket`, `AWS::S3::Bucket`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<std::borrow::Cow<'r, str>>,
}

/// `vulnerability.*`.
#[derive(Debug, Serialize, Default)]
pub struct Vulnerability<'r> {
    /// `CVE-2024-1234`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'r str>,
    /// `CVE` for a CVE id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enumeration: Option<&'static str>,
    /// Where it is described (the first reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'r str>,
    /// The finding's severity label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'r str>,
    /// The finding's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'r str>,
    /// `vulnerability.score.*`: the first CVSS score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<VulnerabilityScore<'r>>,
    /// `vulnerability.scanner.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanner: Option<Scanner<'r>>,
}

/// `vulnerability.score.*`.
#[derive(Debug, Serialize)]
pub struct VulnerabilityScore<'r> {
    /// The CVSS base score.
    pub base: f64,
    /// The CVSS version (`3.1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'r str>,
}

/// `vulnerability.scanner.*`.
#[derive(Debug, Serialize)]
pub struct Scanner<'r> {
    /// The product that found it (`Inspector`).
    pub vendor: &'r str,
}

/// `threat.*`.
#[derive(Debug, Serialize)]
pub struct Threat<'r> {
    /// `threat.indicator.*`.
    pub indicator: Indicator<'r>,
}

/// `*.url.full`.
#[derive(Debug, Serialize)]
pub struct FullUrl<'r> {
    /// The URL as given.
    pub full: &'r str,
}

/// `threat.indicator.*`.
#[derive(Debug, Serialize, Default)]
pub struct Indicator<'r> {
    /// ECS's indicator type (`ipv4-addr`, `domain-name`, `url`, `file`, ...).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The indicator, as the source gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// Set for an IP indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<&'r str>,
    /// `threat.indicator.url.*`, set for a URL indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<FullUrl<'r>>,
    /// Who published it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'r str>,
    /// When it was last seen, as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<&'r str>,
}

/// `container.*`.
#[derive(Debug, Serialize, Default)]
pub struct Container<'r> {
    /// The container's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'r str>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// `docker`, `containerd`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<&'r str>,
    /// `container.image.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ContainerImage<'r>>,
    /// `container.security_context.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
}

/// `container.image.*`.
#[derive(Debug, Serialize)]
pub struct ContainerImage<'r> {
    /// The image, as logged.
    pub name: &'r str,
}

/// `container.security_context.*`.
#[derive(Debug, Serialize)]
pub struct SecurityContext {
    /// Whether the container runs privileged.
    pub privileged: bool,
}

/// `url.*`.
#[derive(Debug, Serialize)]
pub struct Url<'r> {
    /// The URL as logged, where the source logs it whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<&'r str>,
    /// The path, without the query.
    pub path: &'r str,
    /// The query, without `?`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<&'r str>,
    /// The host the request named, for sources that log it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'r str>,
}

/// `http.*`.
#[derive(Debug, Serialize, Default)]
pub struct Http<'r> {
    /// `http.request.*`.
    pub request: HttpRequest<'r>,
    /// `http.response.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpResponse>,
    /// `1.1`, `2.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'r str>,
}

/// `http.request.*`.
#[derive(Debug, Serialize, Default)]
pub struct HttpRequest<'r> {
    /// The method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'r str>,
    /// The request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'r str>,
}

/// `http.response.*`.
#[derive(Debug, Serialize)]
pub struct HttpResponse {
    /// The status code sent.
    pub status_code: u16,
}

/// `rule.*` of an event (not of a finding: that is the product's rule).
#[derive(Debug, Serialize, Default)]
pub struct ObserverRule<'r> {
    /// The rule's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<std::borrow::Cow<'r, str>>,
    /// The rule's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// The rule's category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'r str>,
    /// The set of rules it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ruleset: Option<&'r str>,
    /// What the rule checks (a Security Hub finding's description).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'r str>,
    /// Where the rule and its remediation are explained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'r str>,
}

/// `observer.*`.
#[derive(Debug, Serialize)]
pub struct Observer<'r> {
    /// The appliance's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// `AWS`.
    pub vendor: &'static str,
    /// `Network Firewall`, `WAF`.
    pub product: &'static str,
    /// `firewall`, `waf`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `user.*`.
#[derive(Debug, Serialize, Default)]
pub struct User<'r> {
    /// The user name; for an assumed role, the role's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    /// The principal id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'r str>,
    /// Roles the user acted under (role ARNs).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub roles: Vec<&'r str>,
    /// `user.email`: the user name when it is an e-mail address (federated and SSO users).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'r str>,
    /// `user.domain`: the domain of that address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'r str>,
    /// `user.target.*`: the user an IAM call acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
}

/// `user.target.*`.
#[derive(Debug, Serialize, Default)]
pub struct Target {
    /// The target user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `user.target.group.*`: the group the call put the user in or took them out of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupFields>,
}

/// `group.*` (and `user.target.group.*`).
#[derive(Debug, Serialize)]
pub struct GroupFields {
    /// The group's name.
    pub name: String,
}

/// `tls.*`: the connection the call came over.
#[derive(Debug, Serialize)]
pub struct Tls<'r> {
    /// The version's number (`1.2`, `1.3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'r str>,
    /// The protocol, lowercase (`tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_protocol: Option<&'static str>,
    /// The cipher suite as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<&'r str>,
    /// `tls.client.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<TlsClient<'r>>,
}

/// `tls.client.*`.
#[derive(Debug, Serialize)]
pub struct TlsClient<'r> {
    /// The host name the client asked for (SNI; CloudTrail's `clientProvidedHostHeader`).
    pub server_name: &'r str,
}

/// `user.email` and `user.domain` of a user name that is an e-mail address.
pub fn email_of(name: &str) -> Option<(&str, &str)> {
    let (local, domain) = name.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !name.contains(char::is_whitespace)
        && !domain.contains('@');
    plausible.then_some((name, domain))
}

/// `user_agent.*`.
#[derive(Debug, Serialize)]
pub struct UserAgent<'r> {
    /// The user agent as logged.
    pub original: &'r str,
    /// What it says about itself: name, version, OS, device.
    #[serde(flatten)]
    pub parsed: crate::user_agent::Parsed<'r>,
}

impl<'r> UserAgent<'r> {
    /// The agent as logged, and parsed.
    pub fn of(original: &'r str) -> Self {
        UserAgent {
            original,
            parsed: crate::user_agent::parse(original),
        }
    }
}

/// `error.*`.
#[derive(Debug, Serialize)]
pub struct ErrorFields<'r> {
    /// `errorCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'r str>,
    /// `errorMessage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'r str>,
}

/// `related.*`.
#[derive(Debug, Serialize, Default)]
pub struct Related<'r> {
    /// Every user name the event names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<String>,
    /// Every IP the event names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip: Vec<&'r str>,
    /// Every other identifier the event names (instance ids, access keys, ARNs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<&'r str>,
}

impl Related<'_> {
    fn is_empty(&self) -> bool {
        self.user.is_empty() && self.ip.is_empty() && self.hosts.is_empty()
    }
}

/// `log.*`.
#[derive(Debug, Serialize)]
pub struct Log<'r> {
    /// `log.file.*`.
    pub file: LogFile<'r>,
}

/// `log.file.*`.
#[derive(Debug, Serialize)]
pub struct LogFile<'r> {
    /// `s3://bucket/key` or a local path.
    pub path: &'r str,
}

/// Serializes a raw JSON fragment (`requestParameters` and the like) as it was read, unless it
/// spans lines (a pretty-printed input): then compactly, so that output stays one document per
/// line.
pub fn compact_raw<S: serde::Serializer>(raw: &Option<&RawValue>, s: S) -> Result<S::Ok, S::Error> {
    match raw {
        Some(r) if r.get().contains(['\n', '\r']) => {
            let v: serde_json::Value =
                serde_json::from_str(r.get()).map_err(serde::ser::Error::custom)?;
            v.serialize(s)
        }
        Some(r) => r.serialize(s),
        None => s.serialize_none(),
    }
}
