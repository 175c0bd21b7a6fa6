//! The trained model: one weight per class and feature bucket, read from the small
//! file the training command writes (`model.bin`, embedded in the binary), and the
//! two thresholds chosen on the validation split.
//!
//! The file is `safety::linear`'s, marked `KCM1`, with two thresholds: crisis, then
//! check-in.

use kindred_protocol::CrisisCategory;
use sha2::{Digest, Sha256};

use super::features::{DIM, Features};
use crate::safety::linear::Linear;

/// What the model tells apart: nothing of concern, and the five kinds of crisis the
/// resources card and the alerts name.
pub const CLASSES: [Option<CrisisCategory>; 6] = [
    None,
    Some(CrisisCategory::SuicidalIdeation),
    Some(CrisisCategory::SelfHarm),
    Some(CrisisCategory::Overdose),
    Some(CrisisCategory::ImmediateDanger),
    Some(CrisisCategory::AbuseDisclosure),
];

const MAGIC: &[u8; 4] = b"KCM1";

/// How likely the model finds a message to be each class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores(pub [f32; CLASSES.len()]);

impl Scores {
    /// How likely it is that the message is of concern at all: one less the
    /// likelihood of nothing.
    pub fn concern(&self) -> f32 {
        1.0 - self.0[0]
    }

    /// The most likely kind of crisis, whatever the concern.
    pub fn category(&self) -> CrisisCategory {
        let (best, _) = self.0[1..]
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
        CLASSES[best + 1].unwrap_or(CrisisCategory::SuicidalIdeation)
    }
}

/// Where the model's concern becomes an alert. Chosen on the validation split by the
/// training command and kept in the model file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// At or above: a crisis, as if a rule had matched (the card and the alert).
    pub crisis: f32,
    /// At or above (below `crisis`): the facilitators are asked to check in.
    pub check_in: f32,
}

/// A trained model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The SHA-256 of the corpus it was trained on.
    pub corpus: [u8; 32],
    pub thresholds: Thresholds,
    linear: Linear<{ CLASSES.len() }>,
}

/// A model file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the crisis model file is damaged or from another version: {0}")]
pub struct ModelError(&'static str);

impl Model {
    /// A model of these weights (from training).
    pub fn trained(
        corpus: [u8; 32],
        thresholds: Thresholds,
        linear: Linear<{ CLASSES.len() }>,
    ) -> Self {
        Self {
            corpus,
            thresholds,
            linear,
        }
    }

    /// The scores of a message's features.
    pub fn scores(&self, features: &Features) -> Scores {
        Scores(self.linear.scores(features))
    }

    /// The same model as its file will hold it: each weight rounded to its class's
    /// 16-bit step, so what is measured before writing is what is shipped.
    pub fn quantized(mut self) -> Self {
        self.linear = self.linear.quantized();
        self
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let t = self.thresholds;
        self.linear
            .to_bytes(MAGIC, &self.corpus, &[t.crisis, t.check_in])
    }

    /// Read a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let file = Linear::from_bytes::<2>(bytes, MAGIC, DIM).map_err(ModelError)?;
        let [crisis, check_in] = file.thresholds;
        Ok(Self {
            corpus: file.corpus,
            thresholds: Thresholds { crisis, check_in },
            linear: file.linear,
        })
    }
}

/// The SHA-256 of a corpus given as (file name, contents) pairs, in name order.
pub fn digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> [u8; 32] {
    let mut files: Vec<_> = files.into_iter().collect();
    files.sort_unstable();
    let mut h = Sha256::new();
    for (name, text) in files {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}
