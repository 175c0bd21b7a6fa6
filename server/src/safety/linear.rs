//! A multinomial logistic model over a message's hashed pieces, as crisis detection's
//! classifier (`classifier/`) and the guardrail (`guard/`) both use it: one weight per
//! class and bucket, the scores of a message, one step of training, the weights
//! rounded to 16 bits as the file holds them, and the file itself.
//!
//! The file: a four-byte mark naming the model, the SHA-256 of the corpus it was
//! trained on, the dimensions (buckets, classes), the model's thresholds (as many as
//! it keeps), then per class a scale and a bias, then the weights as 16-bit integers
//! (a weight is `integer × scale`). Little-endian throughout.

use super::classifier::features::Features;

/// The weights of `C` classes over `dim` buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear<const C: usize> {
    dim: usize,
    bias: [f32; C],
    /// `weights[class * dim + bucket]`.
    weights: Vec<f32>,
}

/// How a model is trained ([`Linear::fit`]).
pub struct Schedule {
    /// Passes over the examples.
    pub epochs: usize,
    /// The first pass's step; each later pass's is smaller.
    pub learning_rate: f32,
    pub weight_decay: f32,
    /// The order of the examples in each pass, the same every time for a seed.
    pub seed: u64,
}

/// What a model file holds: its corpus, its `T` thresholds and its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile<const C: usize, const T: usize> {
    pub corpus: [u8; 32],
    pub thresholds: [f32; T],
    pub linear: Linear<C>,
}

impl<const C: usize> Linear<C> {
    /// An untrained model: every weight and bias zero.
    pub fn zeros(dim: usize) -> Self {
        Self {
            dim,
            bias: [0.0; C],
            weights: vec![0.0; C * dim],
        }
    }

    /// Trained by stochastic gradient descent over `examples` (a message's pieces and
    /// its class), in an order shuffled the same way every time for the schedule's
    /// seed, the step falling pass by pass. The first class (nothing to act on) weighs
    /// as much as all the others together, and the others alike, however many
    /// examples each has.
    pub fn fit(dim: usize, examples: &[(Features, usize)], schedule: &Schedule) -> Self {
        let mut counts = [0usize; C];
        for (_, c) in examples {
            counts[*c] += 1;
        }
        let total = examples.len() as f32;
        let other_share = 0.5 / (C - 1) as f32;
        let mut class_weight = [0f32; C];
        for (c, n) in counts.iter().enumerate() {
            let share = if c == 0 { 0.5 } else { other_share };
            class_weight[c] = if *n == 0 {
                0.0
            } else {
                total * share / *n as f32
            };
        }
        let mut model = Self::zeros(dim);
        let mut rng = SplitMix(schedule.seed);
        let mut order: Vec<usize> = (0..examples.len()).collect();
        for epoch in 0..schedule.epochs {
            rng.shuffle(&mut order);
            let lr = schedule.learning_rate / (1.0 + 0.4 * epoch as f32);
            for &i in &order {
                let (f, class) = &examples[i];
                model.step(f, *class, class_weight[*class], lr, schedule.weight_decay);
            }
        }
        model
    }

    fn row(&self, class: usize) -> &[f32] {
        &self.weights[class * self.dim..(class + 1) * self.dim]
    }

    /// Each class's score before the softmax.
    pub fn logits(&self, f: &Features) -> [f32; C] {
        let mut z = self.bias;
        for (class, z) in z.iter_mut().enumerate() {
            let row = self.row(class);
            let sum: f32 = f.buckets.iter().map(|&b| row[b as usize]).sum();
            *z += sum * f.weight;
        }
        z
    }

    /// How likely each class is for a message's pieces.
    pub fn scores(&self, f: &Features) -> [f32; C] {
        softmax(self.logits(f))
    }

    /// One step of stochastic gradient descent on one example of `class`, weighing
    /// `weight`, at learning rate `lr`, with weight decay `decay`.
    fn step(&mut self, f: &Features, class: usize, weight: f32, lr: f32, decay: f32) {
        let p = self.scores(f);
        for (c, pc) in p.iter().enumerate() {
            let y = if c == class { 1.0 } else { 0.0 };
            let g = (pc - y) * weight;
            self.bias[c] -= lr * g * 0.1;
            let row = &mut self.weights[c * self.dim..(c + 1) * self.dim];
            for &b in &f.buckets {
                let wb = &mut row[b as usize];
                *wb -= lr * (g * f.weight + decay * *wb);
            }
        }
    }

    /// The same model as its file will hold it: each weight rounded to its class's
    /// 16-bit step, so what is measured before writing is what is shipped.
    pub fn quantized(mut self) -> Self {
        for class in 0..C {
            let row = &mut self.weights[class * self.dim..(class + 1) * self.dim];
            let scale = scale_of(row);
            for w in row.iter_mut() {
                *w = f32::from(quantize(*w, scale)) * scale;
            }
        }
        self
    }

    /// The model file's bytes, under `mark`, with the corpus and thresholds it keeps.
    pub fn to_bytes(&self, mark: &[u8; 4], corpus: &[u8; 32], thresholds: &[f32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.weights.len() * 2);
        out.extend_from_slice(mark);
        out.extend_from_slice(corpus);
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&(C as u32).to_le_bytes());
        for t in thresholds {
            out.extend_from_slice(&t.to_le_bytes());
        }
        let scales: Vec<f32> = (0..C).map(|c| scale_of(self.row(c))).collect();
        for (scale, bias) in scales.iter().zip(self.bias) {
            out.extend_from_slice(&scale.to_le_bytes());
            out.extend_from_slice(&bias.to_le_bytes());
        }
        for (class, scale) in scales.iter().enumerate() {
            for &w in self.row(class) {
                out.extend_from_slice(&quantize(w, *scale).to_le_bytes());
            }
        }
        out
    }

    /// Read a model file written under `mark` over `dim` buckets; what is wrong with
    /// it if it cannot be read.
    pub fn from_bytes<const T: usize>(
        bytes: &[u8],
        mark: &[u8; 4],
        dim: usize,
    ) -> Result<ModelFile<C, T>, &'static str> {
        let mut r = Reader(bytes);
        if r.take(4)? != mark {
            return Err("another kind of model file");
        }
        let corpus: [u8; 32] = r.take(32)?.try_into().map_err(|_| "short")?;
        if r.u32()? as usize != dim || r.u32()? as usize != C {
            return Err("other dimensions");
        }
        let mut thresholds = [0f32; T];
        for t in &mut thresholds {
            *t = r.f32()?;
        }
        let mut scales = [0f32; C];
        let mut bias = [0f32; C];
        for c in 0..C {
            scales[c] = r.f32()?;
            bias[c] = r.f32()?;
        }
        let mut weights = Vec::with_capacity(C * dim);
        for scale in scales {
            for _ in 0..dim {
                let q = i16::from_le_bytes(r.take(2)?.try_into().map_err(|_| "short")?);
                weights.push(f32::from(q) * scale);
            }
        }
        if !r.0.is_empty() {
            return Err("trailing bytes");
        }
        Ok(ModelFile {
            corpus,
            thresholds,
            linear: Self { dim, bias, weights },
        })
    }
}

fn softmax<const C: usize>(z: [f32; C]) -> [f32; C] {
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
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("short");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "short")?,
        ))
    }

    fn f32(&mut self) -> Result<f32, &'static str> {
        Ok(f32::from_bits(self.u32()?))
    }
}

/// SplitMix64: a small random sequence that is the same everywhere for a seed.
pub struct SplitMix(pub u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}
