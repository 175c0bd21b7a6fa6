//! The named scenarios of BENCHMARKS.md, and the values each starts from.

use clap::ValueEnum;

pub const PRESETS_HELP: &str = "\
Presets (the scenarios of BENCHMARKS.md):
  smoke          20 rooms x 12, 3 senders, 1 msg/s/room, 10 s (a quick check)
  idle           1,250 rooms x 12 = 15,000 members, no traffic, 10 s (RSS per member)
  evening        500 rooms x 12, 3 senders, 1 msg/s/room, 200 B, 60 s
  two-instances  evening over two or more --url (instances sharing Redis)
  saturation     100 rooms x 50, 1 sender, steps 2,5,10,20,30,40 msg/s/room, 10 s each
  large-room     1 room x 1,000, 20 senders, 20 msg/s, 30 s
  slow-readers   evening + 5% of members stop reading for 30 s (then resume by seq)
  churn          evening + 100 leaves and 100 joins per second";

/// The named scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    Smoke,
    Idle,
    Evening,
    TwoInstances,
    Saturation,
    LargeRoom,
    SlowReaders,
    Churn,
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Smoke => "smoke",
            Preset::Idle => "idle",
            Preset::Evening => "evening",
            Preset::TwoInstances => "two-instances",
            Preset::Saturation => "saturation",
            Preset::LargeRoom => "large-room",
            Preset::SlowReaders => "slow-readers",
            Preset::Churn => "churn",
        }
    }

    /// Its values, before flags override them.
    pub fn defaults(self) -> Defaults {
        let evening = Defaults {
            rooms: 500,
            room_size: 12,
            senders: 3,
            steps: vec![1.0],
            message_size: 200,
            duration: 60.0,
            warmup: 5.0,
            settle: 2.0,
            drain: 5.0,
            connect_rate: 1000.0,
            slow_share: 0.0,
            slow_after: 5.0,
            slow_for: 30.0,
            churn: 0.0,
        };
        match self {
            Preset::Smoke => Defaults {
                rooms: 20,
                duration: 10.0,
                warmup: 2.0,
                ..evening
            },
            Preset::Idle => Defaults {
                rooms: 1250,
                senders: 0,
                steps: vec![0.0],
                duration: 10.0,
                warmup: 2.0,
                ..evening
            },
            Preset::Evening | Preset::TwoInstances => evening,
            Preset::Saturation => Defaults {
                rooms: 100,
                room_size: 50,
                senders: 1,
                steps: vec![2.0, 5.0, 10.0, 20.0, 30.0, 40.0],
                duration: 10.0,
                ..evening
            },
            Preset::LargeRoom => Defaults {
                rooms: 1,
                room_size: 1000,
                senders: 20,
                steps: vec![20.0],
                duration: 30.0,
                ..evening
            },
            Preset::SlowReaders => Defaults {
                slow_share: 0.05,
                ..evening
            },
            Preset::Churn => Defaults {
                churn: 100.0,
                ..evening
            },
        }
    }
}

/// A preset's values before flags override them.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub rooms: usize,
    pub room_size: usize,
    pub senders: usize,
    pub steps: Vec<f64>,
    pub message_size: usize,
    pub duration: f64,
    pub warmup: f64,
    pub settle: f64,
    pub drain: f64,
    pub connect_rate: f64,
    pub slow_share: f64,
    pub slow_after: f64,
    pub slow_for: f64,
    pub churn: f64,
}
