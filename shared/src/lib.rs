//! Cloud Infrastructure Security for AWS: the library behind the Lambda functions and the CLI.
//!
//! Log objects are read ([`read`]), parsed per source ([`sources`]), normalized to ECS ([`ecs`]),
//! checked by the detection catalogue ([`detect`]) and turned into findings ([`finding`]) by the
//! [`pipeline`]. The [`engine`] is the one delivery path of every input, for every caller (the
//! functions, the CLI, the benchmark, the tests): quarantine, state ([`state`]), sinks
//! ([`publish`]). [`envelope`] unwraps S3 notifications; [`ingest`] and [`finding_ingest`] are
//! the two functions' handlers, built at cold start by [`coldstart`] and answering through
//! [`batch`]. The findings reached are kept in [`store`], from which [`risk`] ranks entities and
//! [`report`] draws the report and the digest. Everything that touches input is synchronous and pure; async lives at the edges
//! (S3, DynamoDB, SNS).

#![warn(missing_docs)]

pub mod batch;
pub mod coldstart;
pub mod config;
pub mod detect;
pub mod ecs;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod finding;
pub mod finding_ingest;
#[doc(hidden)]
pub mod fuzz;
pub mod geo;
pub mod ingest;
pub mod logging;
pub mod metrics;
pub mod pipeline;
pub mod publish;
pub mod read;
pub mod report;
pub mod risk;
pub mod risk_report;
pub mod sigma;
pub mod sources;
pub mod state;
pub mod store;
pub mod timefmt;
pub mod tuning;
pub mod user_agent;
