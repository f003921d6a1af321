//! Listing a log archive in S3 for a scan or a backfill: every object under a prefix, or, with
//! a date range, only the day folders of AWS's key layouts in range (`.../YYYY/MM/DD/...`, as
//! CloudTrail, WAF and Network Firewall write them), found by walking the folders with a
//! delimiter and never listing a year, month or day outside the range.

use aws_sdk_s3::Client;

use crate::envelope::ObjectRef;
use crate::error::PortError;

/// Days from `since` to `until`, both included (`YYYY-MM-DD`), either open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayRange {
    /// First day, as (year, month, day).
    pub since: Option<(u32, u32, u32)>,
    /// Last day.
    pub until: Option<(u32, u32, u32)>,
}

impl DayRange {
    /// Parses `YYYY-MM-DD`.
    pub fn parse_day(text: &str) -> Result<(u32, u32, u32), String> {
        let bad = || format!("{text:?}: expected a day as YYYY-MM-DD");
        let mut parts = text.trim().split('-');
        let mut next = |digits: usize, max: u32| -> Result<u32, String> {
            let p = parts.next().ok_or_else(bad)?;
            let n: u32 = p.parse().map_err(|_| bad())?;
            if p.len() != digits || n == 0 || n > max {
                return Err(bad());
            }
            Ok(n)
        };
        let day = (next(4, 9999)?, next(2, 12)?, next(2, 31)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(day)
    }

    /// Whether any day of the period `(y, m, d)` (with `m`, `d` unknown when `None`) is in range.
    fn overlaps(&self, y: u32, m: Option<u32>, d: Option<u32>) -> bool {
        let lo = (y, m.unwrap_or(1), d.unwrap_or(1));
        let hi = (y, m.unwrap_or(12), d.unwrap_or(31));
        self.since.is_none_or(|s| hi >= s) && self.until.is_none_or(|u| lo <= u)
    }

    /// Whether the range is open on both sides.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// Where a folder is in a date path.
#[derive(Debug, Clone, Copy)]
enum Level {
    /// Above any date.
    Undated,
    /// Under a year folder.
    Year(u32),
    /// Under a month folder.
    Month(u32, u32),
}

fn number(segment: &str, digits: usize, min: u32, max: u32) -> Option<u32> {
    let n: u32 = segment.parse().ok()?;
    (segment.len() == digits && (min..=max).contains(&n)).then_some(n)
}

/// Every object under `prefix` of `bucket` (in key order), or with `range`, those under the
/// day folders in range. Folders ("keys" ending in `/`) are left out.
pub async fn list_objects(
    client: &Client,
    bucket: &str,
    prefix: &str,
    range: DayRange,
) -> Result<Vec<ObjectRef>, PortError> {
    let mut out = Vec::new();
    if range.is_open() {
        list_all(client, bucket, prefix, &mut out).await?;
    } else {
        // Depth first, with a stack: no recursion of futures.
        let mut stack = vec![(prefix.to_owned(), Level::Undated)];
        while let Some((folder, level)) = stack.pop() {
            let (folders, objects) = list_level(client, bucket, &folder).await?;
            // Objects beside the date folders have no day: outside any range.
            drop(objects);
            for child in folders.into_iter().rev() {
                let segment = child[folder.len()..].trim_end_matches('/');
                match level {
                    Level::Undated => match number(segment, 4, 1970, 2999) {
                        Some(y) if range.overlaps(y, None, None) => {
                            stack.push((child.clone(), Level::Year(y)))
                        }
                        Some(_) => {}
                        None => stack.push((child.clone(), Level::Undated)),
                    },
                    Level::Year(y) => match number(segment, 2, 1, 12) {
                        Some(m) if range.overlaps(y, Some(m), None) => {
                            stack.push((child.clone(), Level::Month(y, m)))
                        }
                        Some(_) => {}
                        None => stack.push((child.clone(), Level::Undated)),
                    },
                    Level::Month(y, m) => match number(segment, 2, 1, 31) {
                        Some(d) if range.overlaps(y, Some(m), Some(d)) => {
                            list_all(client, bucket, &child, &mut out).await?
                        }
                        Some(_) => {}
                        None => stack.push((child.clone(), Level::Undated)),
                    },
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(out)
}

/// One level of `folder`: its sub-folders and its objects.
async fn list_level(
    client: &Client,
    bucket: &str,
    folder: &str,
) -> Result<(Vec<String>, Vec<ObjectRef>), PortError> {
    let mut folders = Vec::new();
    let mut objects = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(folder)
            .delimiter("/")
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| PortError::sdk(&format!("ListObjectsV2 s3://{bucket}/{folder}"), e))?;
        folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        objects.extend(objects_of(bucket, page.contents()));
        match page.next_continuation_token {
            Some(t) if page.is_truncated == Some(true) => token = Some(t),
            _ => return Ok((folders, objects)),
        }
    }
}

async fn list_all(
    client: &Client,
    bucket: &str,
    prefix: &str,
    out: &mut Vec<ObjectRef>,
) -> Result<(), PortError> {
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| PortError::sdk(&format!("ListObjectsV2 s3://{bucket}/{prefix}"), e))?;
        out.extend(objects_of(bucket, page.contents()));
        match page.next_continuation_token {
            Some(t) if page.is_truncated == Some(true) => token = Some(t),
            _ => return Ok(()),
        }
    }
}

fn objects_of<'a>(
    bucket: &'a str,
    contents: &'a [aws_sdk_s3::types::Object],
) -> impl Iterator<Item = ObjectRef> + 'a {
    contents.iter().filter_map(move |o| {
        let key = o.key()?;
        (!key.ends_with('/')).then(|| ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: o.size().and_then(|s| u64::try_from(s).ok()),
            sequencer: None,
        })
    })
}

/// `s3://bucket/prefix` split, when `uri` is one.
pub fn parse_s3_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_ranges() {
        assert_eq!(DayRange::parse_day("2026-11-01"), Ok((2026, 11, 1)));
        for bad in [
            "2026-13-01",
            "2026-1-01",
            "26-11-01",
            "2026-11-01-2",
            "yesterday",
            "",
        ] {
            assert!(DayRange::parse_day(bad).is_err(), "{bad}");
        }
        let r = DayRange {
            since: Some((2026, 10, 30)),
            until: Some((2026, 11, 2)),
        };
        assert!(r.overlaps(2026, None, None));
        assert!(!r.overlaps(2025, None, None));
        assert!(r.overlaps(2026, Some(10), None) && r.overlaps(2026, Some(11), None));
        assert!(!r.overlaps(2026, Some(12), None) && !r.overlaps(2026, Some(9), None));
        assert!(r.overlaps(2026, Some(10), Some(31)) && r.overlaps(2026, Some(11), Some(2)));
        assert!(!r.overlaps(2026, Some(10), Some(29)) && !r.overlaps(2026, Some(11), Some(3)));
        assert_eq!(
            parse_s3_uri("s3://logs/AWSLogs/"),
            Some(("logs".into(), "AWSLogs/".into()))
        );
        assert_eq!(parse_s3_uri("s3://logs"), Some(("logs".into(), "".into())));
        assert_eq!(parse_s3_uri("/tmp/x"), None);
    }
}
