//! Percentiles of benchmark samples, shared by the bench binaries in `tests/benches`.

/// Sorted samples (the unit is the caller's: ms or µs).
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn new(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Samples(v)
    }

    /// The `p`th percentile (nearest rank; the median averages the two middle samples).
    pub fn pct(&self, p: f64) -> f64 {
        let n = self.0.len();
        if n == 0 {
            return f64::NAN;
        }
        if p == 50.0 {
            return if n % 2 == 1 { self.0[n / 2] } else { (self.0[n / 2 - 1] + self.0[n / 2]) / 2.0 };
        }
        let idx = ((p / 100.0) * n as f64).ceil() as usize;
        self.0[idx.clamp(1, n) - 1]
    }

    pub fn median(&self) -> f64 {
        self.pct(50.0)
    }
    pub fn p50(&self) -> f64 {
        self.pct(50.0)
    }
    pub fn p90(&self) -> f64 {
        self.pct(90.0)
    }
    pub fn p99(&self) -> f64 {
        self.pct(99.0)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Samples;

    #[test]
    fn percentiles() {
        let s = Samples::new(vec![5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(s.median(), 3.0);
        assert_eq!(s.p90(), 5.0);
        assert_eq!(Samples::new(vec![1.0, 2.0]).median(), 1.5);
        assert!(Samples::default().p99().is_nan());
    }
}
