//! The lines [`Config::problems`](super::Config::problems) is made of: each group
//! checks its own values into one [`Problems`], every mistake one line that names the
//! environment variable and the flag.

/// The mistakes found so far, in the order the groups found them.
#[derive(Debug, Default)]
pub(super) struct Problems(Vec<String>);

impl Problems {
    /// `value` below `min`: `KINDRED_X (--x) is 0: it must be at least 1 (what)`.
    pub(super) fn at_least(&mut self, env: &str, value: impl TryInto<u64>, min: u64, what: &str) {
        let value = value.try_into().unwrap_or(u64::MAX);
        if value < min {
            self.out_of_range(env, value, &format!("it must be at least {min} ({what})"));
        }
    }

    /// One setting out of range: `KINDRED_X (--x) is 0: it must be …`.
    pub(super) fn out_of_range(&mut self, env: &str, value: impl std::fmt::Display, rule: &str) {
        let flag = env
            .trim_start_matches("KINDRED_")
            .to_ascii_lowercase()
            .replace('_', "-");
        self.0.push(format!("{env} (--{flag}) is {value}: {rule}"));
    }

    /// A mistake that is not one value out of range (two settings that exclude each
    /// other, an empty path).
    pub(super) fn push(&mut self, line: &str) {
        self.0.push(line.to_owned());
    }

    pub(super) fn into_lines(self) -> Vec<String> {
        self.0
    }
}
