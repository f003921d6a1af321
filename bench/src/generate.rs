//! A deterministic generator of realistic CloudTrail data: the same seed gives the same bytes.
//!
//! The mix follows what a busy production account writes: mostly service roles and SSO sessions
//! reading (S3 data events, KMS, STS, EC2 and IAM descriptions), some writes, a few percent of
//! denied calls and throttles, console logins of people (a few failing), and a small share of
//! records that match detections (root use, a trail stopped, a security group opened, a burst
//! of failed logins, secrets read in bulk). Records carry the fields real ones carry
//! (`userIdentity` with session context, `requestParameters`, `responseElements`,
//! `resources`, `tlsDetails`), so their size (about 1.3 KB) is realistic too.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// The account the data is about.
pub const ACCOUNT: &str = "111122223333";

/// Generates CloudTrail records.
pub struct Generator {
    rng: StdRng,
    /// Unix seconds of the next record.
    now: i64,
    seq: u64,
}

const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-1",
    "us-east-1",
    "eu-west-1",
    "us-west-2",
];
const ROLES: &[&str] = &[
    "app-server-role",
    "etl-batch-role",
    "ecs-task-orders",
    "lambda-invoice-processor",
    "lambda-thumbnailer",
    "github-actions-deploy",
    "datadog-integration",
    "backup-operator",
];
const SSO_USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];
const IAM_USERS: &[&str] = &["ci-bot", "legacy-reporting", "terraform"];
const BUCKETS: &[&str] = &[
    "orders-prod",
    "assets-prod",
    "data-lake-raw",
    "logs-archive",
    "ml-features",
];
const AGENTS: &[&str] = &[
    "aws-sdk-java/2.25.10 Linux/5.10.214 OpenJDK_64-Bit_Server_VM/17.0.10",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.214 lang/python#3.12.2",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#arm64",
    "aws-cli/2.15.38 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
];

impl Generator {
    /// A generator starting at 2026-11-01T00:00:00Z.
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            now: 1_793_491_200,
            seq: 0,
        }
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.random_range(0..from.len())]
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.rng.random_range(0..16)]))
            .collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }

    fn time(&self) -> String {
        cloudsec::timefmt::format_rfc3339(self.now)
    }

    fn assumed_role(&mut self, role: &str, session: &str) -> Value {
        let key = format!("ASIA{}", self.hex(16).to_uppercase());
        json!({
            "type": "AssumedRole",
            "principalId": format!("AROA{}:{session}", self.hex(17).to_uppercase()),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"),
            "accountId": ACCOUNT, "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": format!("AROA{}", self.hex(17).to_uppercase()),
                    "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "accountId": ACCOUNT, "userName": role},
                "attributes": {"creationDate": self.time(), "mfaAuthenticated": "false"}
            }
        })
    }

    fn identity(&mut self) -> (Value, Option<&'static str>) {
        match self.rng.random_range(0..100) {
            0..=59 => {
                // Services reuse a few sessions per role (one per task or container).
                let role = self.pick(ROLES);
                let session = format!(
                    "{}-{}",
                    role.split('-').next().unwrap_or("s"),
                    self.rng.random_range(0..4)
                );
                (self.assumed_role(role, &session), None)
            }
            60..=74 => {
                let user = self.pick(SSO_USERS);
                let role = "AWSReservedSSO_PowerUser_4f1c2a3b5d6e7f80";
                (
                    self.assumed_role(role, &format!("{user}@example.com")),
                    Some("console"),
                )
            }
            75..=84 => {
                let user = self.pick(IAM_USERS);
                (
                    json!({"type": "IAMUser", "principalId": format!("AIDA{}", self.hex(17).to_uppercase()),
                        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "accountId": ACCOUNT,
                        "accessKeyId": format!("AKIA{}", self.hex(16).to_uppercase()), "userName": user}),
                    None,
                )
            }
            _ => {
                let svc = self.pick(&[
                    "lambda.amazonaws.com",
                    "ec2.amazonaws.com",
                    "cloudformation.amazonaws.com",
                    "config.amazonaws.com",
                ]);
                (
                    json!({"type": "AWSService", "invokedBy": svc}),
                    Some("service"),
                )
            }
        }
    }

    fn ip(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0..=5 => format!(
                "10.{}.{}.{}",
                self.rng.random_range(0..4),
                self.rng.random_range(0..255),
                self.rng.random_range(1..255)
            ),
            6..=8 => format!("203.0.113.{}", self.rng.random_range(1..255)),
            _ => format!("198.51.100.{}", self.rng.random_range(1..255)),
        }
    }

    /// (eventSource, eventName, requestParameters, responseElements, readOnly, resources)
    fn call(&mut self) -> (&'static str, &'static str, Value, Value, bool, Value) {
        let roll = self.rng.random_range(0..1000);
        match roll {
            0..=349 => {
                let bucket = self.pick(BUCKETS);
                let key = format!(
                    "{}/{}/{}.parquet",
                    self.pick(&["2026/11/01", "incoming", "processed"]),
                    self.hex(8),
                    self.hex(12)
                );
                let name = self.pick(&[
                    "GetObject",
                    "GetObject",
                    "PutObject",
                    "HeadObject",
                    "ListObjects",
                ]);
                (
                    "s3.amazonaws.com",
                    name,
                    json!({"bucketName": bucket, "Host": format!("{bucket}.s3.us-east-1.amazonaws.com"), "key": key}),
                    Value::Null,
                    name != "PutObject",
                    json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
                           {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]),
                )
            }
            350..=519 => {
                let name = self.pick(&["Decrypt", "GenerateDataKey", "Decrypt", "Encrypt"]);
                let key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", self.uuid());
                (
                    "kms.amazonaws.com",
                    name,
                    json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": key,
                        "encryptionContext": {"aws:lambda:FunctionArn": format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders")}}),
                    Value::Null,
                    true,
                    json!([{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}]),
                )
            }
            520..=639 => {
                let name = self.pick(&["AssumeRole", "GetCallerIdentity", "AssumeRole"]);
                let role = self.pick(ROLES);
                let req = if name == "AssumeRole" {
                    json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "roleSessionName": format!("s-{}", self.hex(8)), "durationSeconds": 3600})
                } else {
                    Value::Null
                };
                let resp = if name == "AssumeRole" {
                    json!({"credentials": {"accessKeyId": format!("ASIA{}", self.hex(16).to_uppercase()), "sessionToken": self.hex(64), "expiration": "Nov 1, 2026, 1:00:00 PM"},
                        "assumedRoleUser": {"assumedRoleId": format!("AROA{}:s", self.hex(17).to_uppercase()), "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s")}})
                } else {
                    Value::Null
                };
                ("sts.amazonaws.com", name, req, resp, true, Value::Null)
            }
            640..=799 => {
                let name = self.pick(&[
                    "DescribeInstances",
                    "DescribeSecurityGroups",
                    "DescribeVolumes",
                    "DescribeSubnets",
                    "DescribeNetworkInterfaces",
                ]);
                (
                    "ec2.amazonaws.com",
                    name,
                    json!({"maxResults": 1000, "filterSet": {}}),
                    Value::Null,
                    true,
                    Value::Null,
                )
            }
            800..=869 => {
                let name = self.pick(&[
                    "GetRole",
                    "ListRoles",
                    "GetPolicy",
                    "ListAttachedRolePolicies",
                    "GetUser",
                ]);
                (
                    "iam.amazonaws.com",
                    name,
                    json!({"roleName": self.pick(ROLES)}),
                    Value::Null,
                    true,
                    Value::Null,
                )
            }
            870..=929 => {
                let name = self.pick(&["DescribeTable", "DescribeLogStreams", "GetFunction"]);
                let source = match name {
                    "DescribeTable" => "dynamodb.amazonaws.com",
                    "DescribeLogStreams" => "logs.amazonaws.com",
                    _ => "lambda.amazonaws.com",
                };
                (
                    source,
                    name,
                    json!({"tableName": "orders", "logGroupName": "/aws/lambda/orders", "functionName": "orders"}),
                    Value::Null,
                    true,
                    Value::Null,
                )
            }
            930..=969 => {
                let name = self.pick(&[
                    "CreateLogStream",
                    "PutParameter",
                    "UpdateFunctionConfiguration20150331v2",
                    "RunInstances",
                    "CreateTags",
                ]);
                let source = match name {
                    "CreateLogStream" => "logs.amazonaws.com",
                    "PutParameter" => "ssm.amazonaws.com",
                    "RunInstances" | "CreateTags" => "ec2.amazonaws.com",
                    _ => "lambda.amazonaws.com",
                };
                let req = if name == "RunInstances" {
                    json!({"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]}, "instanceType": "m6i.large"})
                } else {
                    json!({"name": format!("/app/{}", self.hex(6)), "type": "String", "overwrite": true})
                };
                (source, name, req, Value::Null, false, Value::Null)
            }
            _ => (
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                json!({"secretId": format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/{}-{}", self.pick(&["db", "api", "smtp"]), self.hex(6))}),
                Value::Null,
                true,
                Value::Null,
            ),
        }
    }

    /// The next ordinary record (about 0.3% of them are console logins; 3% denied, 1% throttled).
    pub fn ordinary(&mut self) -> Value {
        self.now += i64::from(self.rng.random_range(0..2u8));
        self.seq += 1;
        if self.rng.random_range(0..1000) < 3 {
            let failed = self.rng.random_range(0..10) == 0;
            let user = self.pick(IAM_USERS);
            let ip = self.ip();
            return self.console_login(user, failed, &ip);
        }
        let (identity, kind) = self.identity();
        let (source, name, req, resp, read_only, resources) = self.call();
        let region = self.pick(REGIONS);
        let mut r = json!({
            "eventVersion": "1.10", "userIdentity": identity, "eventTime": self.time(),
            "eventSource": source, "eventName": name, "awsRegion": region,
            "sourceIPAddress": if kind == Some("service") { identity_service(&identity) } else { self.ip() },
            "userAgent": if kind == Some("console") { AGENTS[4].to_owned() } else { self.pick(AGENTS).to_owned() },
            "requestParameters": req, "responseElements": resp,
            "requestID": self.uuid(), "eventID": self.uuid(), "readOnly": read_only,
            "eventType": "AwsApiCall", "managementEvent": source != "s3.amazonaws.com",
            "recipientAccountId": ACCOUNT, "eventCategory": if source == "s3.amazonaws.com" { "Data" } else { "Management" },
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": format!("{}.{region}.amazonaws.com", source.split('.').next().unwrap_or("svc"))}
        });
        if !resources.is_null() {
            r["resources"] = resources;
        }
        match self.rng.random_range(0..100) {
            0..=2 => {
                r["errorCode"] = json!("AccessDenied");
                r["errorMessage"] = json!(format!(
                    "User is not authorized to perform: {}:{name}",
                    source.split('.').next().unwrap_or("")
                ));
            }
            3 => {
                r["errorCode"] = json!("ThrottlingException");
                r["errorMessage"] = json!("Rate exceeded");
            }
            _ => {}
        }
        r
    }

    fn console_login(&mut self, user: &str, failed: bool, ip: &str) -> Value {
        let mut r = json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": format!("AIDA{}", self.hex(17).to_uppercase()),
                "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "accountId": ACCOUNT, "userName": user},
            "eventTime": self.time(), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": AGENTS[4],
            "requestParameters": null,
            "responseElements": {"ConsoleLogin": if failed { "Failure" } else { "Success" }},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"},
            "eventID": self.uuid(), "readOnly": false, "eventType": "AwsConsoleSignIn",
            "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        });
        if failed {
            r["errorMessage"] = json!("Failed authentication");
        }
        r
    }

    /// A record that matches a detection, one of several kinds.
    pub fn suspicious(&mut self) -> Vec<Value> {
        self.now += 1;
        let ip = format!("198.51.100.{}", self.rng.random_range(1..255));
        match self.rng.random_range(0..5) {
            0 => {
                // A burst of failed logins from one IP against several users (spraying).
                (0..12)
                    .map(|i| {
                        self.now += 20;
                        self.console_login(SSO_USERS[i % SSO_USERS.len()], true, &ip)
                    })
                    .collect()
            }
            1 => {
                let mut r = self.ordinary();
                r["userIdentity"] = json!({"type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT});
                r["sourceIPAddress"] = json!(ip);
                vec![r]
            }
            2 => {
                let mut r = self.ordinary();
                r["eventSource"] = json!("cloudtrail.amazonaws.com");
                r["eventName"] = json!("StopLogging");
                r["requestParameters"] = json!({"name": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail")});
                r.as_object_mut().map(|o| {
                    o.remove("errorCode");
                    o.remove("errorMessage")
                });
                vec![r]
            }
            3 => {
                let mut r = self.ordinary();
                r["eventSource"] = json!("ec2.amazonaws.com");
                r["eventName"] = json!("AuthorizeSecurityGroupIngress");
                r["requestParameters"] = json!({"groupId": format!("sg-0{}", self.hex(16)), "ipPermissions": {"items": [
                    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
                r.as_object_mut().map(|o| {
                    o.remove("errorCode");
                    o.remove("errorMessage")
                });
                vec![r]
            }
            _ => (0..8)
                .map(|i| {
                    let mut r = self.ordinary();
                    r["eventSource"] = json!("secretsmanager.amazonaws.com");
                    r["eventName"] = json!("GetSecretValue");
                    r["requestParameters"] = json!({"secretId": format!("prod/secret-{i}")});
                    r.as_object_mut().map(|o| {
                        o.remove("errorCode");
                        o.remove("errorMessage")
                    });
                    r
                })
                .collect(),
        }
    }

    /// Writes `{"Records":[...]}` of about `bytes` bytes of JSON to `out`; 1 record in 500
    /// starts a suspicious sequence. Returns the number of records.
    pub fn write_object<W: std::io::Write>(
        &mut self,
        bytes: usize,
        out: &mut W,
    ) -> std::io::Result<u64> {
        let mut written = 0usize;
        let mut n = 0u64;
        out.write_all(b"{\"Records\":[")?;
        let mut buf = Vec::with_capacity(4096);
        while written < bytes {
            let batch = if self.rng.random_range(0..500) == 0 {
                self.suspicious()
            } else {
                vec![self.ordinary()]
            };
            for r in batch {
                buf.clear();
                if n > 0 {
                    buf.push(b',');
                }
                serde_json::to_writer(&mut buf, &r)?;
                out.write_all(&buf)?;
                written += buf.len();
                n += 1;
            }
        }
        out.write_all(b"]}")?;
        Ok(n)
    }
}

fn identity_service(identity: &Value) -> String {
    identity["invokedBy"]
        .as_str()
        .unwrap_or("internal")
        .to_owned()
}
