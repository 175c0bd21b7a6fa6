//! The guardrail's classifier: a multinomial logistic model over the crisis
//! classifier's hashed pieces ([`features::pieces`]), folded into a smaller space,
//! trained from `safety/guard/corpus/` by `kindred-guard-model train` and shipped as
//! `guard.bin`.
//!
//! The file: `KGM1`, the SHA-256 of the corpus it was trained on, the dimensions, the
//! threshold, then per class a scale and a bias, then the weights as 16-bit integers
//! (a weight is `integer × scale`). Little-endian throughout.

use kindred_protocol::GuardCategory;

use crate::safety::classifier::features::{self, Features};

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
    pub(super) bias: [f32; CLASSES.len()],
    /// `weights[class * DIM + bucket]`.
    pub(super) weights: Vec<f32>,
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
            bias: [0.0; CLASSES.len()],
            weights: vec![0.0; CLASSES.len() * DIM],
        }
    }

    /// Each class's likelihood for a message's pieces.
    pub fn scores(&self, f: &Features) -> [f32; CLASSES.len()] {
        let mut z = self.bias;
        for (class, z) in z.iter_mut().enumerate() {
            let row = &self.weights[class * DIM..(class + 1) * DIM];
            let sum: f32 = f.buckets.iter().map(|&b| row[b as usize]).sum();
            *z += sum * f.weight;
        }
        let max = z.iter().copied().fold(f32::MIN, f32::max);
        let mut e = z.map(|v| (v - max).exp());
        let total: f32 = e.iter().sum();
        for v in &mut e {
            *v /= total;
        }
        e
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
        out.extend_from_slice(&self.threshold.to_le_bytes());
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
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GuardModelError> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return Err(GuardModelError("not a Kindred guardrail model"));
        }
        let corpus: [u8; 32] = r
            .take(32)?
            .try_into()
            .map_err(|_| GuardModelError("short"))?;
        if r.u32()? as usize != DIM || r.u32()? as usize != CLASSES.len() {
            return Err(GuardModelError("other dimensions"));
        }
        let threshold = r.f32()?;
        let mut scales = [0f32; CLASSES.len()];
        let mut bias = [0f32; CLASSES.len()];
        for c in 0..CLASSES.len() {
            scales[c] = r.f32()?;
            bias[c] = r.f32()?;
        }
        let mut weights = Vec::with_capacity(CLASSES.len() * DIM);
        for scale in scales {
            for _ in 0..DIM {
                let q = i16::from_le_bytes(
                    r.take(2)?
                        .try_into()
                        .map_err(|_| GuardModelError("short"))?,
                );
                weights.push(f32::from(q) * scale);
            }
        }
        if !r.0.is_empty() {
            return Err(GuardModelError("trailing bytes"));
        }
        Ok(Self {
            corpus,
            threshold,
            bias,
            weights,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], GuardModelError> {
        if self.0.len() < n {
            return Err(GuardModelError("short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, GuardModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self) -> Result<f32, GuardModelError> {
        Ok(f32::from_bits(self.u32()?))
    }
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
