//! The trained model: one weight per class and feature bucket, read from the small
//! file the training command writes (`model.bin`, embedded in the binary), and the
//! two thresholds chosen on the validation split.
//!
//! The file: `KCM1`, the SHA-256 of the corpus it was trained on, the dimensions, the
//! two thresholds, then per class a scale and a bias, then the weights as 16-bit
//! integers (a weight is `integer × scale`). Little-endian throughout.

use kindred_protocol::CrisisCategory;
use sha2::{Digest, Sha256};

use super::features::{DIM, Features};

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
    bias: [f32; CLASSES.len()],
    /// `weights[class * DIM + bucket]`.
    weights: Vec<f32>,
}

/// A model file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the crisis model file is damaged or from another version: {0}")]
pub struct ModelError(&'static str);

impl Model {
    /// A model with these weights (from training).
    pub fn new(
        corpus: [u8; 32],
        thresholds: Thresholds,
        bias: [f32; CLASSES.len()],
        weights: Vec<f32>,
    ) -> Self {
        debug_assert_eq!(weights.len(), CLASSES.len() * DIM);
        Self {
            corpus,
            thresholds,
            bias,
            weights,
        }
    }

    /// The scores of a message's features.
    pub fn scores(&self, features: &Features) -> Scores {
        Scores(softmax(self.logits(features)))
    }

    pub(super) fn logits(&self, f: &Features) -> [f32; CLASSES.len()] {
        let mut z = self.bias;
        for (class, z) in z.iter_mut().enumerate() {
            let row = &self.weights[class * DIM..(class + 1) * DIM];
            let sum: f32 = f.buckets.iter().map(|&b| row[b as usize]).sum();
            *z += sum * f.weight;
        }
        z
    }

    pub(super) fn bias_mut(&mut self) -> &mut [f32; CLASSES.len()] {
        &mut self.bias
    }

    pub(super) fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weights
    }

    /// The same model as its file will hold it: each weight rounded to its class's
    /// 16-bit step, so what is measured before writing is what is shipped.
    pub fn quantized(mut self) -> Self {
        for class in 0..CLASSES.len() {
            let row = &mut self.weights[class * DIM..(class + 1) * DIM];
            let scale = scale_of(row);
            for w in row.iter_mut() {
                *w = f32::from(quantize(*w, scale)) * scale;
            }
        }
        self
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.weights.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.corpus);
        out.extend_from_slice(&(DIM as u32).to_le_bytes());
        out.extend_from_slice(&(CLASSES.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.thresholds.crisis.to_le_bytes());
        out.extend_from_slice(&self.thresholds.check_in.to_le_bytes());
        let scales: Vec<f32> = (0..CLASSES.len())
            .map(|c| scale_of(&self.weights[c * DIM..(c + 1) * DIM]))
            .collect();
        for (scale, bias) in scales.iter().zip(self.bias) {
            out.extend_from_slice(&scale.to_le_bytes());
            out.extend_from_slice(&bias.to_le_bytes());
        }
        for (class, scale) in scales.iter().enumerate() {
            for &w in &self.weights[class * DIM..(class + 1) * DIM] {
                out.extend_from_slice(&quantize(w, *scale).to_le_bytes());
            }
        }
        out
    }

    /// Read a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return Err(ModelError("not a Kindred crisis model"));
        }
        let corpus: [u8; 32] = r.take(32)?.try_into().map_err(|_| ModelError("short"))?;
        if r.u32()? as usize != DIM || r.u32()? as usize != CLASSES.len() {
            return Err(ModelError("other dimensions"));
        }
        let thresholds = Thresholds {
            crisis: r.f32()?,
            check_in: r.f32()?,
        };
        let mut scales = [0f32; CLASSES.len()];
        let mut bias = [0f32; CLASSES.len()];
        for c in 0..CLASSES.len() {
            scales[c] = r.f32()?;
            bias[c] = r.f32()?;
        }
        let mut weights = Vec::with_capacity(CLASSES.len() * DIM);
        for scale in scales {
            for _ in 0..DIM {
                let q = i16::from_le_bytes(r.take(2)?.try_into().map_err(|_| ModelError("short"))?);
                weights.push(f32::from(q) * scale);
            }
        }
        if !r.0.is_empty() {
            return Err(ModelError("trailing bytes"));
        }
        Ok(Self::new(corpus, thresholds, bias, weights))
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

fn softmax(z: [f32; CLASSES.len()]) -> [f32; CLASSES.len()] {
    let max = z.iter().copied().fold(f32::MIN, f32::max);
    let mut e = z.map(|v| (v - max).exp());
    let sum: f32 = e.iter().sum();
    for v in &mut e {
        *v /= sum;
    }
    e
}

fn scale_of(row: &[f32]) -> f32 {
    let max = row.iter().fold(0f32, |m, w| m.max(w.abs()));
    if max == 0.0 {
        1.0
    } else {
        max / f32::from(i16::MAX)
    }
}

fn quantize(w: f32, scale: f32) -> i16 {
    (w / scale)
        .round()
        .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        if self.0.len() < n {
            return Err(ModelError("short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| ModelError("short"))?,
        ))
    }

    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| ModelError("short"))?,
        ))
    }
}
