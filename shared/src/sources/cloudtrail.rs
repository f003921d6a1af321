//! CloudTrail: the typed record, and its mapping to ECS following Elastic's AWS integration.
//!
//! The record borrows from the JSON text it was parsed from (`Cow` borrows unless a string has
//! escapes). Only the fields detections and the mapping use are typed; the free-form parts
//! (`requestParameters`, `responseElements`, `additionalEventData`) stay raw and are parsed on
//! demand, once, by the first rule that looks inside them.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::lenient::{lenient_bool, lenient_str};
use super::Aws;
use crate::ecs::{
    Account, Cloud, EcsEvent, Endpoint, Entity, ErrorFields, Event, GroupFields, Log, LogFile,
    Related, Service, Target, Tls, TlsClient, User, UserAgent,
};

/// `userName` as CloudTrail writes it when it hides a mistyped user name of a failed login.
pub const HIDDEN_USER: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// One CloudTrail record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord<'a> {
    /// `eventVersion`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub event_version: Option<Cow<'a, str>>,
    /// `userIdentity`; absent on some service and Insights events.
    #[serde(borrow, default)]
    pub user_identity: UserIdentity<'a>,
    /// `eventTime`, RFC 3339.
    #[serde(borrow)]
    pub event_time: Cow<'a, str>,
    /// `eventSource`, e.g. `iam.amazonaws.com` (for Insights events, the source the insight is
    /// about).
    #[serde(borrow, default)]
    pub event_source: Cow<'a, str>,
    /// `eventName`, e.g. `CreateUser` (for Insights events, the call the insight is about).
    #[serde(borrow, default)]
    pub event_name: Cow<'a, str>,
    /// `insightDetails` of a CloudTrail Insights event.
    #[serde(borrow, default)]
    pub insight_details: Option<InsightDetails<'a>>,
    /// `awsRegion`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub aws_region: Option<Cow<'a, str>>,
    /// `sourceIPAddress`: an IP, or a service name such as `cloudtrail.amazonaws.com`.
    #[serde(
        borrow,
        default,
        rename = "sourceIPAddress",
        deserialize_with = "lenient_str"
    )]
    pub source_ip_address: Option<Cow<'a, str>>,
    /// `userAgent`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub user_agent: Option<Cow<'a, str>>,
    /// `errorCode`: present when the call failed.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub error_code: Option<Cow<'a, str>>,
    /// `errorMessage`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub error_message: Option<Cow<'a, str>>,
    /// `requestParameters`, raw.
    #[serde(borrow, default)]
    pub request_parameters: Option<&'a RawValue>,
    /// `responseElements`, raw.
    #[serde(borrow, default)]
    pub response_elements: Option<&'a RawValue>,
    /// `additionalEventData`, raw.
    #[serde(borrow, default)]
    pub additional_event_data: Option<&'a RawValue>,
    /// `resources`: what the call acted on, as CloudTrail lists it (`ARN`, `accountId`,
    /// `type`), raw.
    #[serde(borrow, default)]
    pub resources: Option<&'a RawValue>,
    /// `requestID`.
    #[serde(
        borrow,
        default,
        rename = "requestID",
        deserialize_with = "lenient_str"
    )]
    pub request_id: Option<Cow<'a, str>>,
    /// `eventID`.
    #[serde(borrow, default, rename = "eventID", deserialize_with = "lenient_str")]
    pub event_id: Option<Cow<'a, str>>,
    /// `eventType`: `AwsApiCall`, `AwsConsoleSignIn`, `AwsServiceEvent`, ...
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub event_type: Option<Cow<'a, str>>,
    /// `eventCategory`: `Management`, `Data`, `Insight`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub event_category: Option<Cow<'a, str>>,
    /// `readOnly` (some producers write it as a string).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub read_only: Option<bool>,
    /// `managementEvent`.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub management_event: Option<bool>,
    /// `recipientAccountId`: the account whose trail logged it.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub recipient_account_id: Option<Cow<'a, str>>,
    /// `sharedEventID`.
    #[serde(
        borrow,
        default,
        rename = "sharedEventID",
        deserialize_with = "lenient_str"
    )]
    pub shared_event_id: Option<Cow<'a, str>>,
    /// `sessionCredentialFromConsole`: the session's credentials came from a console sign-in.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub session_credential_from_console: Option<bool>,
    /// `vpcEndpointId`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub vpc_endpoint_id: Option<Cow<'a, str>>,
    /// `tlsDetails`: the TLS connection the call came over.
    #[serde(borrow, default)]
    pub tls_details: Option<TlsDetails<'a>>,
    #[serde(skip)]
    request: OnceCell<Value>,
    #[serde(skip)]
    response: OnceCell<Value>,
    #[serde(skip)]
    additional: OnceCell<Value>,
}

/// `tlsDetails`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails<'a> {
    /// `TLSv1.2`, `TLSv1.3`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub tls_version: Option<Cow<'a, str>>,
    /// The cipher suite (OpenSSL's or IANA's name).
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub cipher_suite: Option<Cow<'a, str>>,
    /// The host name the client asked for.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub client_provided_host_header: Option<Cow<'a, str>>,
}

/// `insightDetails`: what an Insights event is about.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InsightDetails<'a> {
    /// The service of the unusual calls.
    #[serde(borrow, default)]
    pub event_source: Cow<'a, str>,
    /// The unusual call.
    #[serde(borrow, default)]
    pub event_name: Cow<'a, str>,
}

/// `userIdentity`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    /// `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`, `AWSService`, `AWSAccount`, ...
    #[serde(borrow, default, rename = "type", deserialize_with = "lenient_str")]
    pub kind: Option<Cow<'a, str>>,
    /// `principalId`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub principal_id: Option<Cow<'a, str>>,
    /// `arn`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`: the caller's account.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub account_id: Option<Cow<'a, str>>,
    /// `accessKeyId`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub access_key_id: Option<Cow<'a, str>>,
    /// `userName`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub user_name: Option<Cow<'a, str>>,
    /// `invokedBy`: the service that made the call on the principal's behalf.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub invoked_by: Option<Cow<'a, str>>,
    /// `sessionContext`.
    #[serde(borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    /// `sessionIssuer`: the role (or user) the session was issued from.
    #[serde(borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    /// `attributes`.
    #[serde(borrow, default)]
    pub attributes: Option<SessionAttributes<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    /// `Role`, `IAMUser`, `Root`.
    #[serde(borrow, default, rename = "type", deserialize_with = "lenient_str")]
    pub kind: Option<Cow<'a, str>>,
    /// `principalId`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub principal_id: Option<Cow<'a, str>>,
    /// The role ARN.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub account_id: Option<Cow<'a, str>>,
    /// The role's name.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub user_name: Option<Cow<'a, str>>,
}

/// `userIdentity.sessionContext.attributes`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes<'a> {
    /// `"true"` or `"false"`.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub mfa_authenticated: Option<bool>,
    /// `creationDate`.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub creation_date: Option<Cow<'a, str>>,
}

fn opt<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref()
}

fn parse_raw(raw: Option<&RawValue>) -> Value {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or(Value::Null)
}

impl<'a> CloudTrailRecord<'a> {
    /// Parses one record from its JSON text. Every record names a source and a call: at the
    /// top, or for an Insights event in its `insightDetails`.
    pub fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        let mut r: CloudTrailRecord<'a> = serde_json::from_str(raw)?;
        if let Some(insight) = r.insight_details.take() {
            if r.event_source.is_empty() {
                r.event_source = insight.event_source;
            }
            if r.event_name.is_empty() {
                r.event_name = insight.event_name;
            }
        }
        for (field, value) in [
            ("eventSource", &r.event_source),
            ("eventName", &r.event_name),
        ] {
            if value.is_empty() {
                return Err(serde::de::Error::custom(format_args!(
                    "missing field `{field}`"
                )));
            }
        }
        Ok(r)
    }

    /// `userIdentity.type`.
    pub fn identity_type(&self) -> Option<&str> {
        opt(&self.user_identity.kind)
    }

    /// The caller's ARN.
    pub fn arn(&self) -> Option<&str> {
        opt(&self.user_identity.arn)
    }

    /// Success means no `errorCode` and no `errorMessage`; for a console login, the
    /// `responseElements.ConsoleLogin` value decides.
    pub fn is_success(&self) -> bool {
        if self.event_name == "ConsoleLogin" {
            return self.console_login_outcome() == Some(true);
        }
        self.error_code.is_none() && self.error_message.is_none()
    }

    /// The call was refused for lack of permission: `errorCode` `AccessDenied*` or
    /// `*UnauthorizedOperation` (EC2's spelling).
    pub fn is_denied(&self) -> bool {
        self.error_code
            .as_deref()
            .is_some_and(|c| c.starts_with("AccessDenied") || c.ends_with("UnauthorizedOperation"))
    }

    /// `Some(true)` for a successful console login, `Some(false)` for a failed one, `None` when
    /// the record is not a console login or does not say.
    pub fn console_login_outcome(&self) -> Option<bool> {
        if self.event_name != "ConsoleLogin" {
            return None;
        }
        match self.response().get("ConsoleLogin").and_then(Value::as_str) {
            Some("Success") => Some(true),
            Some("Failure") => Some(false),
            _ if self.error_message.as_deref() == Some("Failed authentication") => Some(false),
            _ if self.error_code.is_some() || self.error_message.is_some() => Some(false),
            _ => None,
        }
    }

    /// `requestParameters`, parsed on first use (`Null` when absent or not JSON).
    pub fn request(&self) -> &Value {
        self.request
            .get_or_init(|| parse_raw(self.request_parameters))
    }

    /// `responseElements`, parsed on first use.
    pub fn response(&self) -> &Value {
        self.response
            .get_or_init(|| parse_raw(self.response_elements))
    }

    /// `additionalEventData`, parsed on first use.
    pub fn additional(&self) -> &Value {
        self.additional
            .get_or_init(|| parse_raw(self.additional_event_data))
    }

    /// Which of the request, response and extra data have been parsed (for the test that no
    /// rule parses what it does not judge).
    #[cfg(test)]
    pub(crate) fn parsed_lazily(&self) -> [bool; 3] {
        [
            self.request.get().is_some(),
            self.response.get().is_some(),
            self.additional.get().is_some(),
        ]
    }

    /// The account the caller belongs to, falling back to the trail's account.
    pub fn account_id(&self) -> Option<&str> {
        opt(&self.user_identity.account_id).or(opt(&self.recipient_account_id))
    }

    /// `sourceIPAddress` when it is an IP address (it is a service name for calls made by AWS).
    pub fn source_ip(&self) -> Option<&str> {
        let s = self.source_ip_address.as_deref()?;
        s.parse::<IpAddr>().is_ok().then_some(s)
    }

    /// The session issuer (the role of an assumed-role session).
    pub fn session_issuer(&self) -> Option<&SessionIssuer<'a>> {
        self.user_identity
            .session_context
            .as_ref()?
            .session_issuer
            .as_ref()
    }

    /// The user name ECS reports: the IAM user, the role of an assumed-role session, `root` for
    /// the root user; `None` when CloudTrail hides it.
    pub fn user_name(&self) -> Option<&str> {
        let id = &self.user_identity;
        let name = match id.kind.as_deref() {
            Some("AssumedRole") | Some("FederatedUser") => self
                .session_issuer()
                .and_then(|i| opt(&i.user_name))
                .or(opt(&id.user_name)),
            Some("Root") => opt(&id.user_name).or(Some("root")),
            _ => opt(&id.user_name),
        };
        name.filter(|n| *n != HIDDEN_USER)
    }

    /// Maps the record to ECS. `path` is where it was read from (`log.file.path`).
    pub fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        let (category, kind_types) = categorize(self);
        let outcome = match self.console_login_outcome() {
            Some(true) => "success",
            Some(false) => "failure",
            None if self.is_success() => "success",
            None => "failure",
        };
        let source_ip = self.source_ip();
        let listed = self.listed_resources();
        let target = self.target_user_name();
        let target_group = self.target_group_name();
        let session = self.session_name();
        // The address a federated or SSO user is known by: their name, else their session's.
        let email = self
            .user_name()
            .and_then(crate::ecs::email_of)
            .or_else(|| session.and_then(crate::ecs::email_of));
        let user = User {
            name: self.user_name(),
            id: opt(&self.user_identity.principal_id),
            roles: self
                .session_issuer()
                .filter(|i| i.kind.as_deref() == Some("Role"))
                .and_then(|i| opt(&i.arn))
                .into_iter()
                .collect(),
            email: email.map(|(address, _)| address),
            domain: email.map(|(_, domain)| domain),
            target: target.map(|name| Target {
                name: Some(name.to_owned()),
                // AddUserToGroup, RemoveUserFromGroup: the group the user joins or leaves.
                group: target_group
                    .clone()
                    .filter(|_| self.event_name.contains("Group"))
                    .map(|name| GroupFields { name }),
            }),
        };
        let has_user = user.name.is_some() || user.id.is_some() || user.target.is_some();
        let mut related = Related::default();
        let mut relate = |name: &str| {
            if !name.is_empty() && !related.user.iter().any(|u| u == name) {
                related.user.push(name.to_owned());
            }
        };
        for name in [
            self.user_name(),
            opt(&self.user_identity.principal_id),
            session,
        ]
        .into_iter()
        .flatten()
        {
            relate(name);
        }
        for name in self.named_users() {
            relate(&name);
        }
        related.ip.extend(source_ip);
        let tls = self.tls_details.as_ref().and_then(|t| {
            let version = opt(&t.tls_version);
            let tls = Tls {
                version: version.map(|v| v.trim_start_matches("TLSv")),
                version_protocol: version.filter(|v| v.starts_with("TLS")).map(|_| "tls"),
                cipher: opt(&t.cipher_suite),
                client: opt(&t.client_provided_host_header)
                    .map(|server_name| TlsClient { server_name }),
            };
            (tls.version.is_some() || tls.cipher.is_some() || tls.client.is_some()).then_some(tls)
        });
        let service = self
            .event_source
            .strip_suffix(".amazonaws.com")
            .filter(|s| !s.is_empty())
            .map(|name| Service { name });
        let id = &self.user_identity;
        EcsEvent {
            timestamp: rfc3339(&self.event_time),
            event: Event {
                kind: "event",
                category,
                kind_types,
                outcome: Some(outcome),
                action: Some(&self.event_name),
                provider: Some(&self.event_source),
                dataset: "aws.cloudtrail",
                module: "aws",
                id: opt(&self.event_id),
                ..Event::default()
            },
            cloud: Cloud {
                region: opt(&self.aws_region),
                account: self.account_id().map(|id| Account { id }),
                service,
                ..Cloud::aws()
            },
            source: self.source_ip_address.as_deref().map(|address| Endpoint {
                address,
                ip: source_ip,
                ..Endpoint::default()
            }),
            user: has_user.then_some(user),
            user_agent: opt(&self.user_agent).map(UserAgent::of),
            group: target_group
                .filter(|_| self.event_source == "iam.amazonaws.com")
                .map(|name| GroupFields { name }),
            tls,
            error: (self.error_code.is_some() || self.error_message.is_some()).then(|| {
                ErrorFields {
                    code: opt(&self.error_code),
                    message: opt(&self.error_message),
                }
            }),
            related,
            log: path.map(|path| Log {
                file: LogFile { path },
            }),
            entity: self.target_entity(&listed),
            aws: Aws {
                cloudtrail: Some(CloudTrailFields {
                    resources: listed,
                    event_version: opt(&self.event_version),
                    event_type: opt(&self.event_type),
                    event_category: opt(&self.event_category),
                    error_code: opt(&self.error_code),
                    error_message: opt(&self.error_message),
                    console_login: (self.event_name == "ConsoleLogin")
                        .then(|| ConsoleLoginFields {
                            additional_eventdata: ConsoleLoginData {
                                mfa_used: match self
                                    .additional()
                                    .get("MFAUsed")
                                    .and_then(Value::as_str)
                                {
                                    Some(v) if v.eq_ignore_ascii_case("yes") => Some(true),
                                    Some(v) if v.eq_ignore_ascii_case("no") => Some(false),
                                    _ => None,
                                },
                            },
                        })
                        .filter(|c| c.additional_eventdata.mfa_used.is_some()),
                    user_identity: UserIdentityFields {
                        kind: opt(&id.kind),
                        arn: opt(&id.arn),
                        access_key_id: opt(&id.access_key_id),
                        invoked_by: opt(&id.invoked_by),
                        user_name: opt(&id.user_name),
                        session_context: id.session_context.as_ref().map(|c| {
                            SessionContextFields {
                                mfa_authenticated: c
                                    .attributes
                                    .as_ref()
                                    .and_then(|a| a.mfa_authenticated),
                                creation_date: c
                                    .attributes
                                    .as_ref()
                                    .and_then(|a| opt(&a.creation_date)),
                                session_issuer: c.session_issuer.as_ref().map(|i| {
                                    SessionIssuerFields {
                                        kind: opt(&i.kind),
                                        arn: opt(&i.arn),
                                        account_id: opt(&i.account_id),
                                        principal_id: opt(&i.principal_id),
                                        user_name: opt(&i.user_name),
                                    }
                                }),
                            }
                        }),
                    },
                    recipient_account_id: opt(&self.recipient_account_id),
                    request_id: opt(&self.request_id),
                    read_only: self.read_only,
                    management_event: self.management_event,
                    shared_event_id: opt(&self.shared_event_id),
                    vpc_endpoint_id: opt(&self.vpc_endpoint_id),
                    request_parameters: self.request_parameters,
                    response_elements: self.response_elements,
                    additional_eventdata: self.additional_event_data,
                }),
                ..Aws::default()
            },
            ..EcsEvent::default()
        }
    }

    /// The resources CloudTrail lists for the call; none when the list is absent or not one.
    pub fn listed_resources(&self) -> Vec<ListedResource<'_>> {
        self.resources
            .and_then(|r| serde_json::from_str::<Vec<ListedResource<'_>>>(r.get()).ok())
            .unwrap_or_default()
    }

    /// What the call acted on, for `entity.*`: the first resource CloudTrail lists, else the
    /// resource the request names (an instance, a security group, a bucket, a function, a user,
    /// a key, a secret, a database, a table, a queue).
    fn target_entity<'r>(&'r self, listed: &[ListedResource<'r>]) -> Option<Entity<'r>> {
        if let Some(first) = listed.iter().find(|r| r.arn.is_some()) {
            return Some(Entity {
                id: first.arn.clone()?,
                kind: opt(&first.kind).and_then(entity_class),
                sub_type: first.kind.clone(),
            });
        }
        let req = self.request();
        let named = |key: &str| {
            req.get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let instance = named("instanceId").or_else(|| {
            req.pointer("/instancesSet/items/0/instanceId")
                .and_then(Value::as_str)
        });
        let (id, sub_type) = [
            (instance, "AWS::EC2::Instance"),
            (named("groupId"), "AWS::EC2::SecurityGroup"),
            (named("bucketName"), "AWS::S3::Bucket"),
            (named("functionName"), "AWS::Lambda::Function"),
            (self.target_user_name(), "AWS::IAM::User"),
            (
                named("roleName").filter(|_| self.event_source == "iam.amazonaws.com"),
                "AWS::IAM::Role",
            ),
            (named("keyId"), "AWS::KMS::Key"),
            (named("secretId"), "AWS::SecretsManager::Secret"),
            (
                named("dBInstanceIdentifier").or(named("dbInstanceIdentifier")),
                "AWS::RDS::DBInstance",
            ),
            (named("tableName"), "AWS::DynamoDB::Table"),
            (named("queueUrl"), "AWS::SQS::Queue"),
        ]
        .into_iter()
        .find_map(|(id, t)| Some((id?, t)))?;
        Some(Entity {
            id: Cow::Borrowed(id),
            kind: entity_class(sub_type),
            sub_type: Some(Cow::Borrowed(sub_type)),
        })
    }

    /// The user an IAM call acts on (`requestParameters.userName`), when not the caller.
    fn target_user_name(&self) -> Option<&str> {
        if self.event_source != "iam.amazonaws.com" {
            return None;
        }
        let target = self.request().get("userName")?.as_str()?;
        (Some(target) != self.user_identity.user_name.as_deref()).then_some(target)
    }

    /// The group an IAM call acts on (`requestParameters.groupName`).
    fn target_group_name(&self) -> Option<String> {
        if self.event_source != "iam.amazonaws.com" {
            return None;
        }
        let name = self.request().get("groupName")?.as_str()?;
        (!name.is_empty()).then(|| name.to_owned())
    }

    /// The session name of an assumed role (the ARN's last part:
    /// `assumed-role/Admin/alice@example.com`).
    fn session_name(&self) -> Option<&str> {
        if self.identity_type() != Some("AssumedRole") {
            return None;
        }
        let arn = self.arn()?;
        let (_, resource) = arn.split_once(":assumed-role/")?;
        let (_, session) = resource.split_once('/')?;
        (!session.is_empty()).then_some(session)
    }

    /// The IAM user names a call names: the user it acts on, and the user a response
    /// describes (the user created, the user whose key was created).
    fn named_users(&self) -> Vec<String> {
        if self.event_source != "iam.amazonaws.com" {
            return Vec::new();
        }
        let request = self.request().get("userName");
        let response = self.response();
        [
            request,
            response.pointer("/user/userName"),
            response.pointer("/accessKey/userName"),
            response.pointer("/loginProfile/userName"),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
    }
}

/// The time as RFC 3339, borrowed when it already is (always, for CloudTrail's own files).
fn rfc3339(t: &str) -> Cow<'_, str> {
    if t.contains('T') {
        return Cow::Borrowed(t);
    }
    match crate::timefmt::parse_rfc3339(t) {
        Some(secs) => Cow::Owned(crate::timefmt::format_rfc3339(secs)),
        None => Cow::Borrowed(t),
    }
}

/// `aws.cloudtrail.*`, named as Elastic's AWS integration names them.
#[derive(Debug, Serialize)]
pub struct CloudTrailFields<'r> {
    /// `resources[]`: `arn`, `account_id`, `type`, as Elastic names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ListedResource<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_version: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_type: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_category: Option<&'r str>,
    /// The error again where rules written for Elastic's integration look for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'r str>,
    /// `console_login.additional_eventdata.mfa_used`: the console login's `MFAUsed`, a boolean.
    #[serde(skip_serializing_if = "Option::is_none")]
    console_login: Option<ConsoleLoginFields>,
    user_identity: UserIdentityFields<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_account_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    management_event: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_event_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_endpoint_id: Option<&'r str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::ecs::compact_raw"
    )]
    request_parameters: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::ecs::compact_raw"
    )]
    response_elements: Option<&'r RawValue>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::ecs::compact_raw"
    )]
    additional_eventdata: Option<&'r RawValue>,
}

/// One of `resources`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ListedResource<'a> {
    /// The resource's ARN.
    #[serde(
        borrow,
        default,
        rename(deserialize = "ARN", serialize = "arn"),
        deserialize_with = "lenient_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub arn: Option<Cow<'a, str>>,
    /// Its account.
    #[serde(
        borrow,
        default,
        rename(deserialize = "accountId", serialize = "account_id"),
        deserialize_with = "lenient_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<Cow<'a, str>>,
    /// `AWS::S3::Object`, `AWS::KMS::Key`, ...
    #[serde(
        borrow,
        default,
        rename = "type",
        deserialize_with = "lenient_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<Cow<'a, str>>,
}

/// ECS's `entity.type` of a CloudFormation-style resource type, where there is one.
fn entity_class(sub_type: &str) -> Option<&'static str> {
    Some(match sub_type {
        "AWS::EC2::Instance" => "host",
        "AWS::S3::Bucket" => "bucket",
        "AWS::Lambda::Function" => "function",
        "AWS::IAM::User" => "user",
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster" | "AWS::DynamoDB::Table" => "database",
        "AWS::SQS::Queue" => "queue",
        _ => return None,
    })
}

#[derive(Debug, Serialize)]
struct ConsoleLoginFields {
    additional_eventdata: ConsoleLoginData,
}

#[derive(Debug, Serialize)]
struct ConsoleLoginData {
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_used: Option<bool>,
}

#[derive(Debug, Serialize)]
struct UserIdentityFields<'r> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContextFields<'r>>,
}

#[derive(Debug, Serialize)]
struct SessionContextFields<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_authenticated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_date: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_issuer: Option<SessionIssuerFields<'r>>,
}

#[derive(Debug, Serialize)]
struct SessionIssuerFields<'r> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'r str>,
}

type Categorization = (&'static [&'static str], &'static [&'static str]);

/// ECS `event.category` and `event.type` from the service and the verb of the call. Every type
/// returned is allowed for one of the categories returned (checked by a test over ECS's list).
fn categorize(r: &CloudTrailRecord<'_>) -> Categorization {
    let name: &str = &r.event_name;
    let denied = r.is_denied();
    match &*r.event_source {
        "signin.amazonaws.com" => match name {
            "ConsoleLogin" => (&["authentication"], &["start"]),
            "ConsoleLogout" | "ExitRole" => (&["authentication"], &["end"]),
            _ => (&["authentication"], &["info"]),
        },
        "sts.amazonaws.com" if name.starts_with("Assume") || name.starts_with("Get") => {
            if name == "GetCallerIdentity" || name == "GetAccessKeyInfo" {
                (&["authentication"], &["info"])
            } else {
                (&["authentication"], &["start"])
            }
        }
        "iam.amazonaws.com" => iam_categorize(name),
        _ if denied => (&["api"], &["denied"]),
        // Systems Manager sessions: a shell on an instance opens and closes.
        "ssm.amazonaws.com" => match name {
            "StartSession" | "ResumeSession" => (&["session"], &["start"]),
            "TerminateSession" => (&["session"], &["end"]),
            _ => api_categorize(name),
        },
        // Key pairs are credentials: an identity-and-access change.
        "ec2.amazonaws.com" if name.ends_with("KeyPair") || name.ends_with("KeyPairs") => {
            match api_categorize(name) {
                (_, &["creation"]) => (&["iam"], &["creation"]),
                (_, &["deletion"]) => (&["iam"], &["deletion"]),
                (_, &["access"]) => (&["iam"], &["info"]),
                _ => (&["iam"], &["change"]),
            }
        }
        _ => api_categorize(name),
    }
}

fn iam_categorize(name: &str) -> Categorization {
    if is_read(name) {
        return (&["iam"], &["info"]);
    }
    let subject: &'static str = if name.ends_with("User") || name.contains("UserTo") {
        "user"
    } else if name.ends_with("Group") {
        "group"
    } else if name.contains("Policy") {
        "admin"
    } else {
        ""
    };
    let verb: &'static str = if name.starts_with("Create") || name.starts_with("Add") {
        "creation"
    } else if name.starts_with("Delete") || name.starts_with("Remove") {
        "deletion"
    } else {
        "change"
    };
    match (subject, verb) {
        ("user", "creation") => (&["iam"], &["user", "creation"]),
        ("user", "deletion") => (&["iam"], &["user", "deletion"]),
        ("user", _) => (&["iam"], &["user", "change"]),
        ("group", "creation") => (&["iam"], &["group", "creation"]),
        ("group", "deletion") => (&["iam"], &["group", "deletion"]),
        ("group", _) => (&["iam"], &["group", "change"]),
        ("admin", "creation") => (&["iam"], &["admin", "creation"]),
        ("admin", "deletion") => (&["iam"], &["admin", "deletion"]),
        ("admin", _) => (&["iam"], &["admin", "change"]),
        (_, "creation") => (&["iam"], &["creation"]),
        (_, "deletion") => (&["iam"], &["deletion"]),
        _ => (&["iam"], &["change"]),
    }
}

fn is_read(name: &str) -> bool {
    [
        "Get",
        "List",
        "Describe",
        "Head",
        "Lookup",
        "Search",
        "Generate",
        "Simulate",
        "Check",
        "BatchGet",
        "BatchDescribe",
        "Decrypt",
        "Download",
        "Select",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// A call that is not a read: `api`, and `configuration` for the writes that change how a
/// resource is set up (ECS allows `configuration` with `change`, `creation` and `deletion`, not
/// with `start`/`end`, which stay on processes, instances and trails).
fn api_categorize(name: &str) -> Categorization {
    if is_read(name) {
        return (&["api"], &["access"]);
    }
    const CREATION: [&str; 5] = ["Create", "Run", "Put", "Import", "Copy"];
    const DELETION: [&str; 5] = ["Delete", "Terminate", "Remove", "Deregister", "Purge"];
    // ScheduleKeyDeletion, ScheduleSecretDeletion (scheduled, but a deletion all the same).
    let scheduled_deletion = name.starts_with("Schedule") && name.ends_with("Deletion");
    if name.starts_with("Start") {
        (&["api"], &["start"])
    } else if name.starts_with("Stop") {
        (&["api"], &["end"])
    } else if name.starts_with("Enable") || name.starts_with("Disable") {
        // A setting turned on or off (DisableKey, EnableSerialConsoleAccess): a change.
        (&["api", "configuration"], &["change"])
    } else if scheduled_deletion || DELETION.iter().any(|p| name.starts_with(p)) {
        (&["api", "configuration"], &["deletion"])
    } else if CREATION.iter().any(|p| name.starts_with(p)) && !name.contains("Policy") {
        (&["api", "configuration"], &["creation"])
    } else {
        (&["api", "configuration"], &["change"])
    }
}

/// Who acted, in words: "Root user", "IAM user alice", "role Admin (session alice)".
pub fn actor(r: &CloudTrailRecord<'_>) -> String {
    let id = &r.user_identity;
    match id.kind.as_deref() {
        Some("Root") => "Root user".to_owned(),
        Some("IAMUser") => match r.user_name() {
            Some(n) => format!("IAM user {n}"),
            None => "An unknown IAM user".to_owned(),
        },
        Some("AssumedRole") => {
            let role = r.user_name().unwrap_or("unknown");
            let session = id.arn.as_deref().and_then(|a| a.rsplit('/').next());
            match session {
                Some(s) if s != role => format!("Role {role} (session {s})"),
                _ => format!("Role {role}"),
            }
        }
        Some("AWSService") => match id.invoked_by.as_deref() {
            Some(s) => format!("Service {s}"),
            None => "An AWS service".to_owned(),
        },
        Some(other) => match id.arn.as_deref().or(id.principal_id.as_deref()) {
            Some(p) => format!("{other} {p}"),
            None => other.to_owned(),
        },
        None => "An unknown principal".to_owned(),
    }
}

/// One sentence for a CloudTrail finding: actor and account, action, target, region, source:
/// "Root user of account 111122223333 stopped logging (cloudtrail:StopLogging) on org-trail in
/// us-east-1 from 203.0.113.66".
fn message(r: &CloudTrailRecord<'_>, entity: &crate::detect::Entity) -> String {
    let service = r
        .event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(&r.event_source);
    let mut s = actor(r);
    if let Some(acct) = r.account_id() {
        s.push_str(" of account ");
        s.push_str(acct);
    }
    s.push(' ');
    match (r.console_login_outcome(), r.is_success()) {
        (Some(true), _) => s.push_str("signed in to the console"),
        (Some(false), _) => s.push_str("failed to sign in to the console"),
        (None, true) => {
            s.push_str(&describe_call(&r.event_name));
            s.push_str(&format!(" ({service}:{})", r.event_name));
        }
        (None, false) => {
            let code = r.error_code.as_deref().unwrap_or("failed");
            s.push_str(&format!("tried {service}:{} ({code})", r.event_name));
        }
    }
    if entity.kind == crate::detect::EntityKind::Resource {
        s.push_str(" on ");
        s.push_str(&entity.id);
    }
    if let Some(region) = r.aws_region.as_deref() {
        s.push_str(" in ");
        s.push_str(region);
    }
    if let Some(ip) = r.source_ip_address.as_deref() {
        s.push_str(" from ");
        s.push_str(ip);
    }
    s
}

/// An API call in words: `StopLogging` -> "stopped logging", `AttachUserPolicy` -> "attached
/// user policy", `UpdateFunctionCode20150331v2` -> "updated function code".
pub(crate) fn describe_call(event_name: &str) -> String {
    // API versions suffixed by Lambda and others.
    let name = event_name.trim_end_matches(|c: char| c.is_ascii_digit() || c == 'v');
    let name = if name.is_empty() { event_name } else { name };
    let mut words: Vec<String> = Vec::new();
    for (i, c) in name.char_indices() {
        let new_word = i == 0
            || (c.is_ascii_uppercase()
                && !name[..i].ends_with(|p: char| p.is_ascii_uppercase())
                    | name[i + c.len_utf8()..].starts_with(|n: char| n.is_ascii_lowercase()));
        if new_word {
            words.push(String::new());
        }
        if let Some(w) = words.last_mut() {
            w.push(c);
        }
    }
    const PAST: &[(&str, &str)] = &[
        ("Add", "added"),
        ("Attach", "attached"),
        ("Authorize", "authorized"),
        ("Batch", "batch"),
        ("Create", "created"),
        ("Deactivate", "deactivated"),
        ("Delete", "deleted"),
        ("Detach", "detached"),
        ("Disable", "disabled"),
        ("Disassociate", "disassociated"),
        ("Enable", "enabled"),
        ("Get", "got"),
        ("Leave", "left"),
        ("Modify", "modified"),
        ("Put", "set"),
        ("Remove", "removed"),
        ("Replace", "replaced"),
        ("Revoke", "revoked"),
        ("Run", "ran"),
        ("Schedule", "scheduled"),
        ("Send", "sent"),
        ("Start", "started"),
        ("Stop", "stopped"),
        ("Update", "updated"),
    ];
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        match PAST.iter().find(|(verb, _)| i == 0 && verb == w) {
            Some((_, past)) => out.push((*past).to_owned()),
            None if i == 0 => return format!("called {event_name}"),
            None if w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase()) => out.push(w.clone()),
            None => out.push(w.to_ascii_lowercase()),
        }
    }
    out.join(" ")
}

impl<'a> super::SourceRecord<'a> for CloudTrailRecord<'a> {
    fn parse(raw: &'a str) -> Result<Self, serde_json::Error> {
        CloudTrailRecord::parse(raw)
    }

    fn event_time(&self) -> Option<i64> {
        crate::timefmt::parse_rfc3339(&self.event_time)
    }

    fn to_ecs<'r>(&'r self, path: Option<&'r str>) -> super::Ecs<'r> {
        CloudTrailRecord::to_ecs(self, path)
    }

    fn summary(&self, entity: &crate::detect::Entity) -> String {
        message(self, entity)
    }

    fn sniff(head: &str) -> bool {
        let has = |k: &str| head.contains(k);
        has("\"eventVersion\"") || has("\"Records\"") || has("\"eventSource\"")
    }

    fn user_name(&self) -> Option<&str> {
        self.user_name()
    }

    fn remote_ip(&self) -> Option<&str> {
        self.source_ip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSUMED_ROLE: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/Admin","accountId":"111122223333","userName":"Admin"},"attributes":{"creationDate":"2026-11-01T10:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2026-11-01T10:05:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":{"userName":"bob"},"responseElements":{"accessKey":{"userName":"bob","status":"Active"}},"requestID":"r1","eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}"#;

    #[test]
    fn assumed_role_maps_to_role_name_and_target_user() {
        let r = CloudTrailRecord::parse(ASSUMED_ROLE).unwrap();
        let ecs = serde_json::to_value(r.to_ecs(Some("s3://b/k"))).unwrap();
        assert_eq!(ecs["user"]["name"], "Admin");
        assert_eq!(
            ecs["user"]["roles"][0],
            "arn:aws:iam::111122223333:role/Admin"
        );
        assert_eq!(ecs["user"]["target"]["name"], "bob");
        // The role, the principal id, the session's name, and the user acted on.
        assert_eq!(
            ecs["related"]["user"],
            serde_json::json!(["Admin", "AROAEXAMPLE:alice", "alice", "bob"])
        );
        assert_eq!(ecs["cloud"]["service"]["name"], "iam");
        assert_eq!(ecs["source"]["ip"], "203.0.113.7");
        assert_eq!(ecs["event"]["outcome"], "success");
        assert_eq!(ecs["event"]["category"], serde_json::json!(["iam"]));
        assert_eq!(ecs["event"]["type"], serde_json::json!(["creation"]));
        assert_eq!(ecs["cloud"]["account"]["id"], "111122223333");
        assert_eq!(ecs["log"]["file"]["path"], "s3://b/k");
        let ct = &ecs["aws"]["cloudtrail"];
        assert_eq!(
            ct["user_identity"]["session_context"]["mfa_authenticated"],
            false
        );
        assert_eq!(ct["request_parameters"]["userName"], "bob");
    }

    fn ecs_of(raw: &str) -> Value {
        let r = CloudTrailRecord::parse(raw).unwrap();
        serde_json::to_value(r.to_ecs(None)).unwrap()
    }

    fn call(source: &str, name: &str, extra: &str) -> String {
        format!(
            r#"{{"eventTime":"2026-11-01T10:05:00Z","eventSource":"{source}","eventName":"{name}","sourceIPAddress":"203.0.113.7","userIdentity":{{"type":"IAMUser","userName":"alice","principalId":"AIDAALICE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}}{extra}}}"#
        )
    }

    #[test]
    fn event_types_and_categories_of_the_calls_that_were_wrong() {
        let kind = |source: &str, name: &str| {
            let ecs = ecs_of(&call(source, name, ""));
            (
                ecs["event"]["category"].clone(),
                ecs["event"]["type"].clone(),
            )
        };
        let j = |v: &[&str]| serde_json::json!(v);
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            (
                "secretsmanager.amazonaws.com",
                "BatchGetSecretValue",
                &["api"],
                &["access"],
            ),
            ("kms.amazonaws.com", "Decrypt", &["api"], &["access"]),
            (
                "kms.amazonaws.com",
                "DisableKey",
                &["api", "configuration"],
                &["change"],
            ),
            (
                "kms.amazonaws.com",
                "ScheduleKeyDeletion",
                &["api", "configuration"],
                &["deletion"],
            ),
            (
                "ssm.amazonaws.com",
                "StartSession",
                &["session"],
                &["start"],
            ),
            (
                "ssm.amazonaws.com",
                "TerminateSession",
                &["session"],
                &["end"],
            ),
            (
                "ssm.amazonaws.com",
                "SendCommand",
                &["api", "configuration"],
                &["change"],
            ),
            (
                "ec2.amazonaws.com",
                "CreateKeyPair",
                &["iam"],
                &["creation"],
            ),
            (
                "ec2.amazonaws.com",
                "ImportKeyPair",
                &["iam"],
                &["creation"],
            ),
            (
                "ec2.amazonaws.com",
                "DeleteKeyPair",
                &["iam"],
                &["deletion"],
            ),
            ("ec2.amazonaws.com", "DescribeKeyPairs", &["iam"], &["info"]),
            (
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                &["api", "configuration"],
                &["change"],
            ),
            (
                "ec2.amazonaws.com",
                "RunInstances",
                &["api", "configuration"],
                &["creation"],
            ),
            ("ec2.amazonaws.com", "StopInstances", &["api"], &["end"]),
            (
                "cloudtrail.amazonaws.com",
                "StopLogging",
                &["api"],
                &["end"],
            ),
            (
                "ec2.amazonaws.com",
                "DescribeInstances",
                &["api"],
                &["access"],
            ),
        ];
        for (source, name, category, types) in cases {
            assert_eq!(kind(source, name), (j(category), j(types)), "{name}");
        }
    }

    #[test]
    fn tls_error_mfa_and_the_users_a_call_names() {
        let ecs = ecs_of(&call(
            "iam.amazonaws.com",
            "AddUserToGroup",
            r#","requestParameters":{"userName":"bob","groupName":"admins"},"errorCode":"AccessDenied","errorMessage":"no","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"iam.amazonaws.com"}"#,
        ));
        assert_eq!(ecs["tls"]["version"], "1.3");
        assert_eq!(ecs["tls"]["version_protocol"], "tls");
        assert_eq!(ecs["tls"]["cipher"], "TLS_AES_128_GCM_SHA256");
        assert_eq!(ecs["tls"]["client"]["server_name"], "iam.amazonaws.com");
        assert_eq!(ecs["user"]["target"]["name"], "bob");
        assert_eq!(ecs["user"]["target"]["group"]["name"], "admins");
        assert_eq!(ecs["group"]["name"], "admins");
        assert_eq!(
            ecs["related"]["user"],
            serde_json::json!(["alice", "AIDAALICE", "bob"])
        );
        assert_eq!(ecs["error"]["code"], "AccessDenied");
        assert_eq!(ecs["aws"]["cloudtrail"]["error_code"], "AccessDenied");
        assert_eq!(ecs["aws"]["cloudtrail"]["error_message"], "no");
        // The user a response names (the one created).
        let created = ecs_of(&call(
            "iam.amazonaws.com",
            "CreateUser",
            r#","requestParameters":{"userName":"carol"},"responseElements":{"user":{"userName":"carol","arn":"arn:aws:iam::111122223333:user/carol"}}"#,
        ));
        assert_eq!(
            created["related"]["user"],
            serde_json::json!(["alice", "AIDAALICE", "carol"])
        );
        assert!(created.get("group").is_none() && created.get("tls").is_none());
        // A console login's MFA flag as a boolean; none when it is not logged.
        let login = |mfa: &str| {
            ecs_of(&call(
                "signin.amazonaws.com",
                "ConsoleLogin",
                &format!(r#","additionalEventData":{{"MFAUsed":"{mfa}"}},"responseElements":{{"ConsoleLogin":"Success"}}"#),
            ))["aws"]["cloudtrail"]["console_login"]["additional_eventdata"]["mfa_used"]
                .clone()
        };
        assert_eq!(login("Yes"), true);
        assert_eq!(login("No"), false);
        assert_eq!(login("maybe"), Value::Null);
    }

    #[test]
    fn the_user_agent_is_parsed_the_cli_and_sdks_by_their_own_names() {
        let agent = |ua: &str| {
            ecs_of(&call(
                "sts.amazonaws.com",
                "GetCallerIdentity",
                &format!(r#","userAgent":{}"#, serde_json::json!(ua)),
            ))["user_agent"]
                .clone()
        };
        let cli =
            agent("aws-cli/2.15.0 md/awscrt#0.19.18 ua/2.0 os/linux#5.10.0 lang/python#3.11.6");
        assert_eq!(
            cli["original"],
            "aws-cli/2.15.0 md/awscrt#0.19.18 ua/2.0 os/linux#5.10.0 lang/python#3.11.6"
        );
        assert_eq!(cli["name"], "aws-cli");
        assert_eq!(cli["version"], "2.15.0");
        assert_eq!(cli["os"]["name"], "Linux");
        assert_eq!(cli["os"]["version"], "5.10.0");
        assert_eq!(cli["os"]["type"], "linux");
        let boto = agent("Boto3/1.9.201 Python/2.7.16 Linux/4.14.138 Botocore/1.12.201");
        assert_eq!(
            (boto["name"].as_str(), boto["version"].as_str()),
            (Some("Boto3"), Some("1.9.201"))
        );
        let console = agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36");
        assert_eq!(console["name"], "Chrome");
        assert_eq!(console["os"]["name"], "Windows");
        assert_eq!(console["os"]["type"], "windows");
        let service = agent("cloudformation.amazonaws.com");
        assert_eq!(service["name"], "cloudformation.amazonaws.com");
        assert!(service.get("os").is_none() && service.get("version").is_none());
        let unknown = agent("zzz");
        assert_eq!(unknown["original"], "zzz");
        assert!(unknown.get("name").is_none());
    }

    #[test]
    fn what_a_call_acted_on_is_the_entity_from_its_resources_or_its_request() {
        let listed = ecs_of(&call(
            "kms.amazonaws.com",
            "ScheduleKeyDeletion",
            r#","requestParameters":{"keyId":"k-1"},"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k-1"}]"#,
        ));
        assert_eq!(
            listed["entity"]["id"],
            "arn:aws:kms:us-east-1:111122223333:key/k-1"
        );
        assert_eq!(listed["entity"]["sub_type"], "AWS::KMS::Key");
        assert!(
            listed["entity"].get("type").is_none(),
            "ECS has no class for a key"
        );
        assert_eq!(
            listed["aws"]["cloudtrail"]["resources"],
            serde_json::json!([{"arn": "arn:aws:kms:us-east-1:111122223333:key/k-1", "account_id": "111122223333", "type": "AWS::KMS::Key"}])
        );
        let cases = [
            (
                "ec2.amazonaws.com",
                "TerminateInstances",
                r#"{"instancesSet":{"items":[{"instanceId":"i-0abc"}]}}"#,
                "i-0abc",
                "AWS::EC2::Instance",
                Some("host"),
            ),
            (
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                r#"{"groupId":"sg-1"}"#,
                "sg-1",
                "AWS::EC2::SecurityGroup",
                None,
            ),
            (
                "s3.amazonaws.com",
                "PutBucketPolicy",
                r#"{"bucketName":"b"}"#,
                "b",
                "AWS::S3::Bucket",
                Some("bucket"),
            ),
            (
                "iam.amazonaws.com",
                "CreateAccessKey",
                r#"{"userName":"bob"}"#,
                "bob",
                "AWS::IAM::User",
                Some("user"),
            ),
            (
                "lambda.amazonaws.com",
                "UpdateFunctionCode20150331v2",
                r#"{"functionName":"f"}"#,
                "f",
                "AWS::Lambda::Function",
                Some("function"),
            ),
        ];
        for (source, name, request, id, sub_type, class) in cases {
            let ecs = ecs_of(&call(
                source,
                name,
                &format!(r#","requestParameters":{request}"#),
            ));
            assert_eq!(ecs["entity"]["id"], id, "{name}");
            assert_eq!(ecs["entity"]["sub_type"], sub_type, "{name}");
            assert_eq!(ecs["entity"]["type"].as_str(), class, "{name}");
        }
        // A call on nothing named, and a list that is not one, give no entity and no resources.
        let none = ecs_of(&call(
            "sts.amazonaws.com",
            "GetCallerIdentity",
            r#","resources":"x""#,
        ));
        assert!(none.get("entity").is_none());
        assert!(none["aws"]["cloudtrail"].get("resources").is_none());
        // The caller acting on themself is not a target.
        let own = ecs_of(&call(
            "iam.amazonaws.com",
            "ChangePassword",
            r#","requestParameters":{"userName":"alice"}"#,
        ));
        assert!(own.get("entity").is_none());
    }

    #[test]
    fn a_federated_user_known_by_an_address_gets_user_email_and_domain() {
        let sso = r#"{"eventTime":"2026-11-01T10:05:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"AssumedRole","principalId":"AROAX:alice@example.com","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123","userName":"AWSReservedSSO_Admin_0123"}}}}"#;
        let ecs = ecs_of(sso);
        assert_eq!(ecs["user"]["name"], "AWSReservedSSO_Admin_0123");
        assert_eq!(ecs["user"]["email"], "alice@example.com");
        assert_eq!(ecs["user"]["domain"], "example.com");
        let plain = ecs_of(&call("s3.amazonaws.com", "ListBuckets", ""));
        assert!(plain["user"].get("email").is_none());
        for name in [
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@example.",
            "a@@example.com",
        ] {
            assert_eq!(crate::ecs::email_of(name), None, "{name}");
        }
    }

    #[test]
    fn service_source_is_an_address_not_an_ip() {
        let raw = r#"{"eventTime":"2026-11-01T10:05:00Z","eventSource":"s3.amazonaws.com","eventName":"GetBucketAcl","sourceIPAddress":"cloudtrail.amazonaws.com","userIdentity":{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"}}"#;
        let r = CloudTrailRecord::parse(raw).unwrap();
        let ecs = serde_json::to_value(r.to_ecs(None)).unwrap();
        assert_eq!(ecs["source"]["address"], "cloudtrail.amazonaws.com");
        assert!(ecs["source"].get("ip").is_none());
        assert!(ecs.get("related").is_none());
    }

    #[test]
    fn console_login_outcome_and_hidden_user() {
        let raw = r#"{"eventTime":"2026-11-01T10:05:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","sourceIPAddress":"198.51.100.1","userIdentity":{"type":"IAMUser","accountId":"111122223333","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"},"responseElements":{"ConsoleLogin":"Failure"},"errorMessage":"No username found in supplied account"}"#;
        let r = CloudTrailRecord::parse(raw).unwrap();
        assert_eq!(r.console_login_outcome(), Some(false));
        assert_eq!(r.user_name(), None);
        let ecs = serde_json::to_value(r.to_ecs(None)).unwrap();
        assert_eq!(ecs["event"]["outcome"], "failure");
        assert_eq!(
            ecs["event"]["category"],
            serde_json::json!(["authentication"])
        );
        assert!(ecs.get("user").is_none() || ecs["user"].get("name").is_none());
    }

    #[test]
    fn insights_events_name_their_call_in_insight_details() {
        let raw = r#"{"eventVersion":"1.07","eventTime":"2019-11-14T00:51:00Z","awsRegion":"us-east-1","eventID":"e","eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012","sharedEventID":"s","insightDetails":{"state":"Start","eventSource":"ssm.amazonaws.com","eventName":"UpdateInstanceInformation","insightType":"ApiCallRateInsight"},"eventCategory":"Insight"}"#;
        let r = CloudTrailRecord::parse(raw).unwrap();
        assert_eq!(r.event_source, "ssm.amazonaws.com");
        assert_eq!(r.event_name, "UpdateInstanceInformation");
        let e = CloudTrailRecord::parse(
            r#"{"eventTime":"2019-11-14T00:51:00Z","eventSource":"s3.amazonaws.com"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("missing field `eventName`"), "{e}");
    }

    #[test]
    fn missing_event_name_is_a_shape_error() {
        assert!(CloudTrailRecord::parse(r#"{"eventTime":"x","eventSource":"s"}"#).is_err());
        assert!(CloudTrailRecord::parse(r#"[1,2]"#).is_err());
    }

    #[test]
    fn a_mistyped_optional_field_costs_the_field_not_the_record() {
        let raw = r#"{"eventTime":"2026-11-01T10:05:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userAgent":["x"],"awsRegion":7,"errorCode":null,"userIdentity":{"arn":{"a":1}}}"#;
        let r = CloudTrailRecord::parse(raw).unwrap();
        assert_eq!(r.user_agent, None);
        assert_eq!(r.aws_region, None);
        assert_eq!(r.arn(), None);
        assert!(
            CloudTrailRecord::parse(r#"{"eventTime":"t","eventSource":["s"],"eventName":"n"}"#)
                .is_err(),
            "required fields stay strict"
        );
    }

    #[test]
    fn escaped_strings_still_parse() {
        let raw = r#"{"eventTime":"2026-11-01T10:05:00Z","eventSource":"s3.amazonaws.com","eventName":"Put\u0042ucketPolicy","readOnly":"false"}"#;
        let r = CloudTrailRecord::parse(raw).unwrap();
        assert_eq!(r.event_name, "PutBucketPolicy");
        assert_eq!(r.read_only, Some(false));
    }
}
