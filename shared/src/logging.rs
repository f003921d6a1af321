//! The functions' and the CLI's log subscriber, filtered by target and level.
//!
//! The filter is `tracing-subscriber`'s `Targets` (`info`, `cloudsec=debug,warn`), not its
//! `EnvFilter`: the latter's span and field directives need the `regex-automata` crate's full DFA
//! builder, and a feature enabled anywhere is enabled for every regex of the binary, so that
//! each of uap-core's user agent regexes, compiled at a cold start, was also built as a full
//! DFA (`cloudsec-bench instructions` counted their compile at 487 million instructions with
//! `EnvFilter` and 343 million without, in the build of that change). Nothing here logs with
//! span or field filters in mind.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};

/// The filter of a Lambda function, as Lambda's advanced logging controls set it:
/// `AWS_LAMBDA_LOG_LEVEL` (a level; `FATAL` is `error`), else `RUST_LOG` (directives), else
/// `info`: the level of what no directive names, and of what does not parse, as with the
/// runtime's own subscriber.
pub fn lambda_filter(aws_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    match (aws_level, rust_log) {
        (Some(level), _) => {
            let level = if level.eq_ignore_ascii_case("fatal") {
                LevelFilter::ERROR
            } else {
                LevelFilter::from_str(level).unwrap_or(LevelFilter::INFO)
            };
            Targets::new().with_default(level)
        }
        (None, Some(directives)) => directives_or(directives, LevelFilter::INFO),
        (None, None) => Targets::new().with_default(LevelFilter::INFO),
    }
}

/// `directives` (`level`, `target=level`, comma-separated), with `default` for the targets
/// they do not name; a directive that does not parse is left out.
fn directives_or(directives: &str, default: LevelFilter) -> Targets {
    let mut targets = Targets::new();
    let mut level = default;
    for one in directives
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter_map(|d| Targets::from_str(d).ok())
    {
        if let Some(l) = one.default_level() {
            level = l;
        }
        for (target, l) in one.iter() {
            if !target.is_empty() {
                targets = targets.with_target(target, l);
            }
        }
    }
    targets.with_default(level)
}

/// The filter of the CLI: `RUST_LOG`'s directives, `warn` for what they do not name.
pub fn cli_filter(rust_log: Option<&str>) -> Targets {
    directives_or(rust_log.unwrap_or_default(), LevelFilter::WARN)
}

/// Installs the subscriber of a Lambda function: lines on stdout without time (Lambda stamps
/// them), JSON objects when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the template sets it).
pub fn init_lambda() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let var = |name| std::env::var(name).ok();
    let filter = lambda_filter(
        var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
        var("RUST_LOG").as_deref(),
    );
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time();
    let registry = tracing_subscriber::registry().with(filter);
    // A second call (a test's) leaves the first subscriber in place.
    let _ = if json {
        registry.with(fmt.json()).try_init()
    } else {
        registry.with(fmt).try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn lambda_levels_and_directives() {
        let f = lambda_filter(Some("DEBUG"), Some("error"));
        assert!(f.would_enable("cloudsec::ingest", &Level::DEBUG));
        assert!(!f.would_enable("cloudsec::ingest", &Level::TRACE));
        // FATAL, a level Lambda offers and tracing does not have: errors only.
        let f = lambda_filter(Some("FATAL"), None);
        assert!(f.would_enable("cloudsec", &Level::ERROR));
        assert!(!f.would_enable("cloudsec", &Level::WARN));
        // RUST_LOG's directives, by target.
        let f = lambda_filter(None, Some("cloudsec=debug,warn"));
        assert!(f.would_enable("cloudsec::engine", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(f.would_enable("aws_smithy_runtime", &Level::WARN));
        // A target named alone: info for the others.
        let f = lambda_filter(None, Some("cloudsec=trace"));
        assert!(f.would_enable("cloudsec::read", &Level::TRACE));
        assert!(f.would_enable("aws_config", &Level::INFO));
        assert!(!f.would_enable("aws_config", &Level::DEBUG));
        // Nothing set, or nonsense: info.
        for f in [
            lambda_filter(None, None),
            lambda_filter(Some("loud"), None),
            lambda_filter(None, Some("=,=")),
        ] {
            assert!(f.would_enable("cloudsec", &Level::INFO));
            assert!(!f.would_enable("cloudsec", &Level::DEBUG));
        }
    }

    #[test]
    fn cli_defaults_to_warnings() {
        let f = cli_filter(None);
        assert!(f.would_enable("cloudsec", &Level::WARN));
        assert!(!f.would_enable("cloudsec", &Level::INFO));
        assert!(cli_filter(Some("info")).would_enable("cloudsec", &Level::INFO));
        assert!(!cli_filter(Some("=,=")).would_enable("cloudsec", &Level::INFO));
        let f = cli_filter(Some("cloudsec=debug"));
        assert!(f.would_enable("cloudsec::engine", &Level::DEBUG));
        assert!(!f.would_enable("aws_config", &Level::INFO));
    }
}
