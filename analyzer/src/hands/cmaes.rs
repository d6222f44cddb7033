//! CMA-ES, the covariance matrix adaptation evolution strategy, for derivative-free fitting
//! of synth parameters in the unit box.
//!
//! Reference: N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016),
//! with the default population size, weights and learning rates of its table 1.
//!
//! Departures from the tutorial: the search lives in [0, 1]ⁿ (parameters are normalised by
//! their ranges); a sample outside is evaluated at its projection onto the box, and the
//! projected point is what updates the distribution (so the mean never leaves the box).
//! The eigendecomposition is a cyclic Jacobi sweep, refreshed every generation (n ≤ 40 here).
//! The random numbers come from a seeded generator: the same problem gives the same answer.

/// What the search found.
#[derive(Debug, Clone)]
pub struct Best {
    /// The best point seen, in [0, 1]ⁿ.
    pub x: Vec<f64>,
    /// Its loss.
    pub loss: f64,
    /// Evaluations spent.
    pub evaluations: usize,
}

/// Minimises `f` over [0, 1]ⁿ from `start` with initial step `sigma`, until `stop` says so
/// (called before each generation with the evaluations spent) or the step collapses.
pub fn minimize(
    start: &[f64],
    sigma: f64,
    seed: u64,
    f: &mut dyn FnMut(&[f64]) -> f64,
    stop: &mut dyn FnMut(usize) -> bool,
) -> Best {
    let n = start.len();
    let mut best = Best {
        x: start.iter().map(|v| v.clamp(0.0, 1.0)).collect(),
        loss: f64::INFINITY,
        evaluations: 0,
    };
    best.loss = f(&best.x);
    best.evaluations = 1;
    if n == 0 {
        return best;
    }
    let lambda = 4 + (3.0 * (n as f64).ln()).floor() as usize;
    let mu = lambda / 2;
    let raw: Vec<f64> = (0..mu)
        .map(|i| (mu as f64 + 0.5).ln() - ((i + 1) as f64).ln())
        .collect();
    let total: f64 = raw.iter().sum();
    let w: Vec<f64> = raw.iter().map(|x| x / total).collect();
    let mu_eff = 1.0 / w.iter().map(|x| x * x).sum::<f64>();
    let nf = n as f64;
    let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
    let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
    let c_c = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
    let c_1 = 2.0 / ((nf + 1.3).powi(2) + mu_eff);
    let c_mu = (1.0 - c_1).min(2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((nf + 2.0).powi(2) + mu_eff));
    let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));

    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut mean = best.x.clone();
    let mut sigma = sigma;
    let mut p_sigma = vec![0.0; n];
    let mut p_c = vec![0.0; n];
    let mut c = identity(n);
    let mut b = identity(n);
    let mut d = vec![1.0; n];
    let mut generation = 0usize;
    while !stop(best.evaluations) && sigma > 1e-6 {
        // Sample, evaluate, rank.
        let mut pop: Vec<(f64, Vec<f64>)> = (0..lambda)
            .map(|_| {
                let z: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
                let x: Vec<f64> = (0..n)
                    .map(|i| {
                        let y: f64 = (0..n).map(|j| b[i][j] * d[j] * z[j]).sum();
                        (mean[i] + sigma * y).clamp(0.0, 1.0)
                    })
                    .collect();
                let loss = f(&x);
                (loss, x)
            })
            .collect();
        best.evaluations += lambda;
        pop.sort_by(|a, b| a.0.total_cmp(&b.0));
        if pop[0].0 < best.loss {
            best.loss = pop[0].0;
            best.x = pop[0].1.clone();
        }
        // Recombine.
        let old = mean.clone();
        mean = (0..n)
            .map(|i| (0..mu).map(|k| w[k] * pop[k].1[i]).sum())
            .collect();
        let y_w: Vec<f64> = (0..n).map(|i| (mean[i] - old[i]) / sigma).collect();
        // C^{-1/2} y_w = B D⁻¹ Bᵀ y_w.
        let bt_y: Vec<f64> = (0..n)
            .map(|j| (0..n).map(|i| b[i][j] * y_w[i]).sum())
            .collect();
        let inv_sqrt_y: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| b[i][j] * bt_y[j] / d[j]).sum())
            .collect();
        let cs = (c_sigma * (2.0 - c_sigma) * mu_eff).sqrt();
        for i in 0..n {
            p_sigma[i] = (1.0 - c_sigma) * p_sigma[i] + cs * inv_sqrt_y[i];
        }
        let ps_norm = p_sigma.iter().map(|x| x * x).sum::<f64>().sqrt();
        generation += 1;
        let h_sigma = ps_norm / (1.0 - (1.0 - c_sigma).powi(2 * generation as i32)).sqrt()
            < (1.4 + 2.0 / (nf + 1.0)) * chi_n;
        let hs = if h_sigma { 1.0 } else { 0.0 };
        let cc = (c_c * (2.0 - c_c) * mu_eff).sqrt();
        for i in 0..n {
            p_c[i] = (1.0 - c_c) * p_c[i] + hs * cc * y_w[i];
        }
        let ys: Vec<Vec<f64>> = pop[..mu]
            .iter()
            .map(|(_, x)| (0..n).map(|i| (x[i] - old[i]) / sigma).collect())
            .collect();
        let delta = (1.0 - hs) * c_c * (2.0 - c_c);
        for i in 0..n {
            for j in 0..=i {
                let rank_mu: f64 = (0..mu).map(|k| w[k] * ys[k][i] * ys[k][j]).sum();
                let v = (1.0 - c_1 - c_mu) * c[i][j]
                    + c_1 * (p_c[i] * p_c[j] + delta * c[i][j])
                    + c_mu * rank_mu;
                c[i][j] = v;
                c[j][i] = v;
            }
        }
        sigma *= ((c_sigma / d_sigma) * (ps_norm / chi_n - 1.0)).exp();
        sigma = sigma.min(1.0);
        let (vals, vecs) = jacobi_eigen(&c);
        d = vals.iter().map(|v| v.max(1e-20).sqrt()).collect();
        b = vecs;
    }
    best
}

fn identity(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix, cyclic Jacobi.
fn jacobi_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut v = identity(n);
    for _sweep in 0..50 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let cs = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * cs;
                for row in m.iter_mut() {
                    let (mkp, mkq) = (row[p], row[q]);
                    row[p] = cs * mkp - sn * mkq;
                    row[q] = sn * mkp + cs * mkq;
                }
                let (head, tail) = m.split_at_mut(q);
                for (x, y) in head[p].iter_mut().zip(tail[0].iter_mut()) {
                    let (mpk, mqk) = (*x, *y);
                    *x = cs * mpk - sn * mqk;
                    *y = sn * mpk + cs * mqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = cs * vkp - sn * vkq;
                    row[q] = sn * vkp + cs * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i][i]).collect(), v)
}

/// xorshift64* with Box–Muller normals.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        ((x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_an_ill_conditioned_rotated_bowl() {
        // Minimum at 0.3 + 0.05·i, axes scaled 1..1000 and coupled pairwise.
        let n = 8;
        let target: Vec<f64> = (0..n).map(|i| 0.3 + 0.05 * i as f64).collect();
        let mut f = |x: &[f64]| {
            (0..n)
                .map(|i| {
                    let a = x[i] - target[i];
                    let b = x[(i + 1) % n] - target[(i + 1) % n];
                    10f64.powf(3.0 * i as f64 / (n - 1) as f64) * (a + 0.5 * b).powi(2)
                })
                .sum()
        };
        let start = vec![0.8; n];
        let best = minimize(&start, 0.3, 1, &mut f, &mut |e| e >= 6000);
        assert!(best.loss < 1e-8, "loss {}", best.loss);
        for (x, t) in best.x.iter().zip(&target) {
            assert!((x - t).abs() < 1e-3, "{:?}", best.x);
        }
        // Repeatable.
        let again = minimize(&start, 0.3, 1, &mut f, &mut |e| e >= 6000);
        assert_eq!(again.x, best.x);
    }

    #[test]
    fn stays_in_the_box() {
        // The minimum lies outside: the answer is the corner.
        let mut f = |x: &[f64]| (x[0] + 1.0).powi(2) + (x[1] - 2.0).powi(2);
        let best = minimize(&[0.5, 0.5], 0.3, 7, &mut f, &mut |e| e >= 1000);
        assert!(best.x[0] < 1e-3 && best.x[1] > 1.0 - 1e-3, "{:?}", best.x);
    }

    #[test]
    fn jacobi_diagonalises() {
        let a = vec![
            vec![4.0, 1.0, 0.5],
            vec![1.0, 3.0, 0.2],
            vec![0.5, 0.2, 1.0],
        ];
        let (vals, vecs) = jacobi_eigen(&a);
        for k in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i][j] * vecs[j][k]).sum();
                assert!((av - vals[k] * vecs[i][k]).abs() < 1e-9);
            }
        }
    }
}
