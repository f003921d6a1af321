//! Cloud Infrastructure Security for AWS: the library behind the Lambda functions and the CLI.
//!
//! Log objects are read ([`read`]), parsed per source ([`sources`]), normalized to ECS ([`ecs`]),
//! checked by the detection catalogue ([`detect`]) and turned into findings ([`finding`]) by the
//! [`pipeline`]; [`publish`] delivers them. [`envelope`] unwraps S3 notifications and [`ingest`]
//! is the `log-ingest` handler. Everything that touches input is synchronous and pure; async
//! lives at the edges (S3, SNS).

#![warn(missing_docs)]

pub mod config;
pub mod detect;
pub mod ecs;
pub mod envelope;
pub mod error;
pub mod finding;
pub mod finding_ingest;
pub mod geo;
pub mod ingest;
pub mod metrics;
pub mod pipeline;
pub mod publish;
pub mod read;
pub mod sources;
pub mod state;
pub mod timefmt;
