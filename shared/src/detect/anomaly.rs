//! The z-score of the seed app's anomaly queries.

/// z = (count - mean) / (std + 0.1) of `count` against `history` (population standard
/// deviation); `None` without history, as there is no baseline to compare with.
pub fn z_score(count: u64, history: &[u64]) -> Option<f64> {
    if history.is_empty() {
        return None;
    }
    let n = history.len() as f64;
    let mean = history.iter().map(|&c| c as f64).sum::<f64>() / n;
    let var = history
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    Some((count as f64 - mean) / (var.sqrt() + 0.1))
}

#[cfg(test)]
mod tests {
    use super::z_score;

    #[test]
    fn z_scores() {
        assert_eq!(z_score(5, &[]), None);
        // mean 1, std 0: (4 - 1) / 0.1
        assert!((z_score(4, &[1, 1, 1]).unwrap() - 30.0).abs() < 1e-9);
        // mean 2, std 1: (5 - 2) / 1.1
        assert!((z_score(5, &[1, 3]).unwrap() - 3.0 / 1.1).abs() < 1e-9);
        assert!(z_score(2, &[2, 2, 2]).unwrap().abs() < 1e-9);
    }
}
