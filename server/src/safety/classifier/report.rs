//! How well detection does on a set of messages: the figures the corpus history and
//! the regression tables speak in.

use std::collections::BTreeMap;
use std::fmt;

use super::corpus::Example;
use super::{Detection, Tier};

/// Detection's figures on one set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Score {
    /// Messages that must alert, and how many did (either tier), and in the crisis tier.
    pub alerts: usize,
    pub alerted: usize,
    pub crisis: usize,
    /// Calm messages, and how many raised an alert of either tier.
    pub calm: usize,
    pub false_alarms: usize,
    /// Must-alert messages missed, by the kind they were written as.
    pub misses: BTreeMap<String, usize>,
    /// Calm messages that alerted, by kind.
    pub alarms: BTreeMap<String, usize>,
}

impl Score {
    /// Score `examples` with `detect`.
    pub fn of(examples: &[Example], detect: impl Fn(&str) -> Option<Detection>) -> Self {
        let mut s = Score::default();
        for e in examples {
            let found = detect(&e.text);
            if e.class == 0 {
                s.calm += 1;
                if found.is_some() {
                    s.false_alarms += 1;
                    *s.alarms.entry(e.kind.clone()).or_default() += 1;
                }
            } else {
                s.alerts += 1;
                match found {
                    Some(d) => {
                        s.alerted += 1;
                        if d.tier == Tier::Crisis {
                            s.crisis += 1;
                        }
                    }
                    None => *s.misses.entry(e.kind.clone()).or_default() += 1,
                }
            }
        }
        s
    }

    /// The share of must-alert messages that alerted (either tier).
    pub fn recall(&self) -> f64 {
        ratio(self.alerted, self.alerts)
    }

    /// The share of must-alert messages in the crisis tier.
    pub fn crisis_recall(&self) -> f64 {
        ratio(self.crisis, self.alerts)
    }

    /// The share of calm messages that alerted.
    pub fn false_alarm_rate(&self) -> f64 {
        ratio(self.false_alarms, self.calm)
    }
}

fn ratio(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |v: f64| v * 100.0;
        writeln!(
            f,
            "alerted {}/{} ({:.1}%), crisis tier {}/{} ({:.1}%), calm alerted {}/{} ({:.1}%)",
            self.alerted,
            self.alerts,
            pct(self.recall()),
            self.crisis,
            self.alerts,
            pct(self.crisis_recall()),
            self.false_alarms,
            self.calm,
            pct(self.false_alarm_rate())
        )?;
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(f, "misses by kind: {}", list(&self.misses))?;
        write!(f, "false alarms by kind: {}", list(&self.alarms))
    }
}
