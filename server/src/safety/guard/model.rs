//! The guardrail's classifier: a multinomial logistic model over the crisis
//! classifier's hashed pieces ([`features::pieces`]), folded into a smaller space,
//! trained from `safety/guard/corpus/` by `kindred-guard-model train` and shipped as
//! `guard.bin`.
//!
//! The file is `safety::linear`'s, marked `KGM1`, with one threshold.

use kindred_protocol::GuardCategory;

use crate::safety::classifier::features::{self, Features};
use crate::safety::linear::Linear;

/// The classes: nothing to ask about, then the guardrail's categories.
pub const CLASSES: [Option<GuardCategory>; 4] = [
    None,
    Some(GuardCategory::Method),
    Some(GuardCategory::Graphic),
    Some(GuardCategory::Dose),
];

/// The crisis classifier's buckets folded into this many: the corpus is smaller.
pub const DIM: usize = 1 << 15;

const MAGIC: &[u8; 4] = b"KGM1";

/// A trained guardrail model.
#[derive(Clone, Debug, PartialEq)]
pub struct GuardModel {
    /// The SHA-256 of the corpus it was trained on.
    pub corpus: [u8; 32],
    /// At or above this likelihood of any category, the model finds one.
    pub threshold: f32,
    pub(super) linear: Linear<{ CLASSES.len() }>,
}

/// A model file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the guardrail model file is damaged or from another version: {0}")]
pub struct GuardModelError(&'static str);

/// A message's pieces, folded into [`DIM`].
pub fn pieces(text: &str) -> Features {
    let mut f = features::pieces(text);
    for b in &mut f.buckets {
        *b %= DIM as u32;
    }
    f.buckets.sort_unstable();
    f.buckets.dedup();
    f
}

impl GuardModel {
    /// An untrained model.
    pub fn empty(corpus: [u8; 32]) -> Self {
        Self {
            corpus,
            threshold: 1.0,
            linear: Linear::zeros(DIM),
        }
    }

    /// Each class's likelihood for a message's pieces.
    pub fn scores(&self, f: &Features) -> [f32; CLASSES.len()] {
        self.linear.scores(f)
    }

    /// The category the model finds in a text, if its likelihood of any category
    /// reaches the threshold.
    pub fn find(&self, text: &str) -> Option<GuardCategory> {
        let p = self.scores(&pieces(text));
        if 1.0 - p[0] < self.threshold {
            return None;
        }
        let best = (1..CLASSES.len()).fold(1, |b, c| if p[c] > p[b] { c } else { b });
        CLASSES[best]
    }

    /// The same model as its file will hold it.
    pub fn quantized(mut self) -> Self {
        self.linear = self.linear.quantized();
        self
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.linear.to_bytes(MAGIC, &self.corpus, &[self.threshold])
    }

    /// Read a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GuardModelError> {
        let file = Linear::from_bytes::<1>(bytes, MAGIC, DIM).map_err(GuardModelError)?;
        Ok(Self {
            corpus: file.corpus,
            threshold: file.thresholds[0],
            linear: file.linear,
        })
    }
}
