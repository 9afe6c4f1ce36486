"""Deliberately broken PPO implementations: each one is tools/conformance_numpy_adapter.py with
exactly one of the bugs issue 14 names, and tests/e2e_conformance.sh checks that
tools/conformance_check.py FAILS on it, naming the case and the element.

    conformance_check.py KIT --adapter tests/conformance_broken.py:padding_not_masked
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from conformance_numpy_adapter import NumpyPPO  # noqa: E402


class PaddingNotMasked(NumpyPPO):
    """Losses averaged over every position of the padded batch, padding included."""

    def loss_mask(self, inp, name):
        return np.ones(inp[name].shape)


class PerSequenceMean(NumpyPPO):
    """Each sequence's token mean, then the mean over sequences (TRL-style 'seq-mean-token-mean')
    where rlgf takes one mean over all tokens of the minibatch."""

    def aggregate(self, per_token, m):
        n = m.sum(axis=1, keepdims=True)
        rows = n[:, 0] > 0
        w = np.where(n > 0, m / np.where(n > 0, n, 1), 0.0) / rows.sum()
        return (per_token * w).sum(), w


class ValueClipWrongTarget(NumpyPPO):
    """Value clipped around the returns instead of around V_old."""

    def value_clip_centre(self, inp):
        return inp["returns"].astype(np.float64)


class RatioAgainstRef(NumpyPPO):
    """The ratio taken against pi_ref's log-probs instead of the rollout policy's."""

    def log_ratio(self, inp):
        return inp["logp"].astype(np.float64) - inp["logp_ref"].astype(np.float64)


class GaeLeaksPadding(NumpyPPO):
    """GAE runs through the padding: the last real token bootstraps from a padded position."""

    def gae_live(self, inp):
        return np.ones(inp["mask"].shape, dtype=bool)


padding_not_masked = PaddingNotMasked()
per_sequence_mean = PerSequenceMean()
value_clip_wrong_target = ValueClipWrongTarget()
ratio_against_ref = RatioAgainstRef()
gae_leaks_padding = GaeLeaksPadding()


class ReturnsFromNormalisedAdvantages(NumpyPPO):
    """The value target built from the normalised advantages (A_norm + V) instead of the raw GAE
    advantages."""

    def kind_ppo_step(self, p, inp):
        out = NumpyPPO.kind_ppo_step(self, p, inp)
        if p["norm_adv"]:
            g = self.kind_gae(p, inp)
            A = g["advantage"]
            sel = inp["train_mask"] > 0
            An = (A - A[sel].mean()) / (A[sel].std(ddof=1) + 1e-8)
            bad = dict(inp, returns=(An + inp["value_old"]).astype(np.float32))
            val = self.kind_value_loss(p, bad)
            out["returns"] = An + inp["value_old"]
            out["value_loss"] = val["value_loss"]
            out["grad_value"] = p["vf_coef"] * val["grad_value"]
            out["loss"] = out["policy_loss"] - p["ent_coef"] * out["entropy"] + p["vf_coef"] * val["value_loss"]
        return out


returns_from_normalised_advantages = ReturnsFromNormalisedAdvantages()


class K3ForK1(NumpyPPO):
    """k3 = (rho - 1) - log rho used where k1 = logp - logp_ref was configured (both estimate
    KL(pi || pi_ref), but k3 has another value per sample and another gradient)."""

    def kl_estimate(self, est, logp, logp_ref):
        return NumpyPPO.kl_estimate(self, "k3" if est == "k1" else est, logp, logp_ref)


class GroupStatsOverBatch(NumpyPPO):
    """GRPO/RLOO-style group statistics (mean and std) taken over the whole batch instead of over
    the K samples of each prompt."""

    def group_stats(self, R, group):
        return np.full_like(R, R.mean()), np.full_like(R, R.std(ddof=1))


k3_for_k1 = K3ForK1()
group_stats_over_batch = GroupStatsOverBatch()


class AggModesSwapped(NumpyPPO):
    """loss.agg token_mean and seq_mean_token_mean swapped (the per-sequence vs per-token bug on
    the loss-knob cases)."""

    def agg_weights(self, m, mode, max_length):
        swap = {"token_mean": "seq_mean_token_mean", "seq_mean_token_mean": "token_mean"}
        return NumpyPPO.agg_weights(self, m, swap.get(mode, mode), max_length)


agg_modes_swapped = AggModesSwapped()
