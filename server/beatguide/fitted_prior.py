"""The fitted prior: a Gaussian mixture fitted to a model's training codes (its aggregate posterior).

The paper draws the latents of gestures that are not given from N(0, I). Those draws land where the
decoder saw few codes in training, and decode to an averaged feel (docs/results.md, "What drives
diversity"). The fitted prior draws them from the mixture instead, conditioned on the codes of the
gestures that are given (a score's code picks a groove code that goes with that score).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RELEVANCE = 16.0  # MAP adaptation: codes a component must explain before it moves half way (FittedPrior.adapted)


class FittedPrior:
    """A Gaussian mixture over the model's whole latent vector: ``weights`` (K,), ``means`` (K, D),
    ``covariances`` (K, D, D)."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray):
        self.weights = np.asarray(weights, np.float64)
        self.means = np.asarray(means, np.float64)
        self.covariances = np.asarray(covariances, np.float64)
        k, d = self.means.shape
        if self.weights.shape != (k,) or self.covariances.shape != (k, d, d) or not k:
            raise ValueError(
                f"mixture arrays have shapes {self.weights.shape}, {self.means.shape}, {self.covariances.shape}"
            )
        self._conditionals = lru_cache(maxsize=64)(self._conditionals_uncached)

    @classmethod
    def from_file(cls, path) -> FittedPrior:
        """The mixture stored in a model's prior file (raises KeyError or ValueError if it is not one)."""
        with np.load(path) as f:
            return cls(f["weights"], f["means"], f["covariances"])

    @property
    def size(self) -> int:
        return self.means.shape[1]

    def arrays(self) -> dict:
        """The mixture as float32 arrays, as stored in a model's prior file."""
        return {k: getattr(self, k).astype(np.float32) for k in ("weights", "means", "covariances")}

    def adapted(self, codes: np.ndarray, relevance: float = RELEVANCE) -> FittedPrior:
        """The mixture moved toward ``codes`` (N, D) by MAP adaptation of its weights and means (as a
        speaker model is adapted from a universal background model, Reynolds et al. 2000): component k,
        with responsibility n_k for the codes, moves a share n_k / (n_k + ``relevance``) of the way to
        their responsibility-weighted mean; covariances are kept."""
        codes = np.asarray(codes, np.float64)
        resp = np.exp(self._log_responsibilities(codes))
        n_k = resp.sum(axis=0)
        share = n_k / (n_k + relevance)
        mean_k = resp.T @ codes / np.maximum(n_k, 1e-12)[:, None]
        means = share[:, None] * mean_k + (1 - share[:, None]) * self.means
        weights = share * n_k / len(codes) + (1 - share) * self.weights
        return FittedPrior(weights / weights.sum(), means, self.covariances)

    def _log_responsibilities(self, x: np.ndarray) -> np.ndarray:
        """log p(component | x) for rows x (N, D)."""
        logp = []
        for w, m, s in zip(self.weights, self.means, self.covariances):
            chol = np.linalg.cholesky(s)
            y = np.linalg.solve(chol, (x - m).T)
            logp.append(np.log(w) - np.log(np.diag(chol)).sum() - 0.5 * (y**2).sum(axis=0))
        logp = np.stack(logp, axis=1)
        return logp - np.logaddexp.reduce(logp, axis=1, keepdims=True)

    def sample(
        self,
        x: np.ndarray,
        observed: np.ndarray,
        component_uniforms: np.ndarray,
        eps: np.ndarray,
        temperature: float = 1.0,
    ) -> np.ndarray:
        """Draws (n, D) of the unobserved dimensions given each row's observed values in ``x`` (n, D);
        observed dimensions are copied from ``x``.

        ``component_uniforms`` (n,) pick each row's component by its posterior weight given the
        observed values; ``eps`` (n, D) standard normal noise (observed columns unused), scaled by
        ``temperature`` around that component's conditional mean."""
        observed = np.asarray(observed, bool)
        out = np.array(x, np.float64, ndmin=2)
        if observed.all():
            return out
        log_w, parts, chol = self._conditionals(observed.tobytes())
        for row, u, e in zip(out, component_uniforms, eps):
            xo = row[observed]
            logr = np.array([lw - 0.5 * (xo - mo) @ p @ (xo - mo) for lw, (p, mo, _, _) in zip(log_w, parts)])
            r = np.exp(logr - logr.max())
            k = min(int(np.searchsorted(np.cumsum(r / r.sum()), u, side="right")), len(r) - 1)
            _, mo, a, mu = parts[k]
            row[~observed] = mu + a @ (xo - mo) + temperature * chol[k] @ e[~observed]
        return out

    def _conditionals_uncached(self, key: bytes):
        """For one pattern of observed dimensions, per component: the log weight with the observed
        marginal's normaliser; (precision of the observed marginal, its mean, the conditional mean's
        slope, the unobserved mean); the Cholesky factor of the conditional covariance."""
        obs = np.frombuffer(key, bool)
        u = ~obs
        log_w, parts, chol = [], [], []
        for w, m, s in zip(self.weights, self.means, self.covariances):
            s_uo = s[np.ix_(u, obs)]
            p = np.linalg.inv(s[np.ix_(obs, obs)]) if obs.any() else np.zeros((0, 0))
            a = s_uo @ p
            cov = s[np.ix_(u, u)] - a @ s_uo.T
            log_w.append(np.log(w) + 0.5 * np.linalg.slogdet(p)[1] if obs.any() else np.log(w))
            parts.append((p, m[obs], a, m[u]))
            chol.append(np.linalg.cholesky(0.5 * (cov + cov.T) + 1e-9 * np.eye(u.sum())))
        return log_w, parts, np.stack(chol)
