"""A plain-numpy implementation of the PPO family and the critic-free estimators (GRPO, RLOO,
REINFORCE, ReMax), KL estimators, KL placement and loss aggregation, checked by
tools/conformance_check.py.

    python3 tools/conformance_check.py kit/ --adapter tools/conformance_numpy_adapter.py:adapter

It is written from the kit's documentation (README, "Checking your own implementation"), not
from rlgf's C code, and is the worked example of the adapter protocol: a callable taking a Case
and returning {expected name: array}, or None for kinds it does not implement. Each step that
implementations commonly get wrong is one small method (the mask of a loss, the aggregation, the
ratio's denominator, the centre of the value clip, where GAE stops), so tests/conformance_broken.py
can break exactly one of them and show the checker names the case and element.
"""
import numpy as np


def log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


class NumpyPPO:
    # ---- the steps a broken variant overrides ----
    def loss_mask(self, inp, name):
        """The tokens a loss is taken over: the case's train_mask / value_mask."""
        return inp[name].astype(np.float64)

    def aggregate(self, per_token, m):
        """Per-token mean: (1/N) sum m_t x_t with N = sum m_t over the whole minibatch."""
        return (per_token * m).sum() / m.sum(), m / m.sum()

    def log_ratio(self, inp):
        return inp["logp"].astype(np.float64) - inp["logp_old"].astype(np.float64)

    def value_clip_centre(self, inp):
        return inp["value_old"].astype(np.float64)

    def gae_live(self, inp):
        """Where a trajectory continues: t < length (GAE must not run through padding)."""
        return inp["mask"].astype(bool)

    def kl_estimate(self, est, logp, logp_ref):
        """Schulman's estimators of KL(pi || pi_ref) at a sampled token and d/dlogp of each."""
        lp, lq = np.asarray(logp, dtype=np.float64), np.asarray(logp_ref, dtype=np.float64)
        lr = lq - lp  # log rho
        if est == "k1":
            return -lr, np.ones_like(lr)
        if est == "k2":
            return 0.5 * lr * lr, lp - lq
        if est == "k3":
            return np.expm1(lr) - lr, -np.expm1(lr)
        raise NotImplementedError("kl_estimator '%s'" % est)

    def group_stats(self, R, group):
        """Per trajectory: the mean and the unbiased std of the R of its own group."""
        mean, std = np.zeros_like(R), np.zeros_like(R)
        for g in np.unique(group):
            sel = group == g
            mean[sel] = R[sel].mean()
            std[sel] = R[sel].std(ddof=1) if sel.sum() > 1 else 0.0
        return mean, std

    def agg_weights(self, m, mode, max_length):
        """loss.agg: the weight of each trained token."""
        N, Li = m.sum(), m.sum(axis=1, keepdims=True)
        S = float((Li[:, 0] > 0).sum())
        if mode == "token_mean":
            return m / N
        if mode == "seq_mean_token_mean":
            return np.where(Li > 0, m / np.where(Li > 0, Li, 1), 0.0) / S
        if mode == "seq_mean_token_sum_norm":
            return m / (S * max_length)
        raise NotImplementedError("loss_agg '%s'" % mode)

    def shaped_rewards(self, p, inp, beta):
        """r_t = -beta k(logp_old, logp_ref) on KL tokens, + task_reward on the last; float32 as rlgf
        stores them; and R_i, their sum."""
        live = inp["mask"].astype(bool)
        on = (inp["actor"] == 0) | bool(p.get("kl_on_guide", 0))
        k, _ = self.kl_estimate(p["kl_estimator"], inp["logp_old"], inp["logp_ref"])
        r = np.where(live & on, -beta * k, 0.0) if beta != 0 else np.zeros(live.shape)
        L = live.sum(axis=1)
        for i in range(live.shape[0]):
            if L[i] > 0:
                r[i, L[i] - 1] += float(inp["task_reward"][i])
        r = np.where(live, r, 0.0).astype(np.float32).astype(np.float64)
        return r, r.sum(axis=1)

    # ---- the kinds ----
    def __call__(self, case):
        fn = getattr(self, "kind_" + case.kind, None)
        return fn(case.params, case.inputs) if fn else None

    def kind_gae(self, p, inp):
        live, run = inp["mask"].astype(bool), self.gae_live(inp)
        B, T = inp["token"].shape
        L = live.sum(axis=1)
        kl = inp["logp_old"].astype(np.float64) - inp["logp_ref"].astype(np.float64)
        on = (inp["actor"] == 0) | bool(p["kl_on_guide"])
        beta = p["beta_kl"] if p["kl_in_reward"] else 0.0
        r = np.where(live & on, -beta * kl, 0.0)
        for i in range(B):
            if L[i] > 0:
                r[i, L[i] - 1] += float(inp["task_reward"][i])
        r = r.astype(np.float32).astype(np.float64)  # rlgf stores rewards as float32 before GAE
        v = inp["value_old"].astype(np.float64)
        A = np.zeros((B, T))
        nxt = np.zeros(B)
        for t in range(T - 1, -1, -1):
            cont = run[:, t + 1] if t + 1 < T else np.zeros(B, dtype=bool)
            v_next = np.where(cont, v[:, t + 1] if t + 1 < T else 0.0, 0.0)
            delta = r[:, t] + p["gamma"] * v_next - v[:, t]
            nxt = np.where(run[:, t], delta + p["gamma"] * p["lambda"] * np.where(cont, nxt, 0.0), 0.0)
            A[:, t] = nxt
        return {"reward": r, "advantage": A, "returns": A + v, "return": (r * live).sum(axis=1)}

    def kind_ppo_policy_loss(self, p, inp):
        m = self.loss_mask(inp, "train_mask")
        A = inp["advantage"].astype(np.float64)
        if p["norm_adv"]:
            sel = m > 0
            mean, std = A[sel].mean(), A[sel].std(ddof=1)
            A = (A - mean) / (std + 1e-8)
        lr = self.log_ratio(inp)
        rho = np.exp(lr)
        eps = p["clip"]
        s1, s2 = rho * A, np.clip(rho, 1 - eps, 1 + eps) * A
        per = -np.minimum(s1, s2)
        loss, w = self.aggregate(per, m)
        grad = np.where(s1 <= s2, -rho * A, 0.0) * w
        kl, _ = self.aggregate((rho - 1) - lr, m)
        cf, _ = self.aggregate((np.abs(rho - 1) > eps).astype(np.float64), m)
        return {"policy_loss": loss, "grad_logp": grad, "advantage_used": A, "approx_kl": kl, "clip_frac": cf}

    def kind_value_loss(self, p, inp):
        m = self.loss_mask(inp, "value_mask")
        v, G = inp["value"].astype(np.float64), inp["returns"].astype(np.float64)
        c, eps = self.value_clip_centre(inp), p["vf_clip"]
        un = (v - G) ** 2
        vc = np.clip(v, c - eps, c + eps)
        cl = (vc - G) ** 2
        if p["value_clip"]:
            per, g = np.maximum(un, cl), np.where(cl > un, 0.0, v - G)
            frac, _ = self.aggregate((vc != v).astype(np.float64), m)
        else:
            per, g, frac = un, v - G, 0.0
        loss, w = self.aggregate(0.5 * per, m)
        return {"value_loss": loss, "grad_value": g * w, "value_clip_frac": frac}

    def kind_ppo_step(self, p, inp):
        """GAE, then the combined loss with those advantages and returns (stored as float32, as
        rlgf stores them before its loss reads them)."""
        g = self.kind_gae(p, inp)
        adv = g["advantage"].astype(np.float32)
        ret = g["returns"].astype(np.float32)
        pol = self.kind_ppo_policy_loss(p, dict(inp, advantage=adv))
        val = self.kind_value_loss(p, dict(inp, returns=ret))
        ent = self.kind_entropy(p, inp)
        loss = pol["policy_loss"] - p["ent_coef"] * ent["entropy"] + p["vf_coef"] * val["value_loss"]
        return {"advantage": g["advantage"], "returns": g["returns"], "policy_loss": pol["policy_loss"],
                "value_loss": val["value_loss"], "entropy": ent["entropy"], "loss": loss,
                "grad_logp": pol["grad_logp"], "grad_value": p["vf_coef"] * val["grad_value"]}

    def kind_entropy(self, p, inp):
        m = self.loss_mask(inp, "train_mask")
        ls = log_softmax(inp["logits"])
        pr = np.exp(ls)
        H = -(pr * ls).sum(axis=-1)
        ent, w = self.aggregate(H, m)
        return {"entropy": ent, "grad_logits": -pr * (ls + H[..., None]) * w[..., None]}

    def kind_target_nll(self, p, inp):
        m = inp["ref_mask"].astype(np.float64)
        ls = log_softmax(inp["logits"])
        y = inp["ref_token"]
        nll = -np.take_along_axis(ls, y[..., None], axis=-1)[..., 0]
        N = m.sum()
        onehot = np.eye(ls.shape[-1])[y]
        return {"target_loss": (nll * m).sum() / N, "grad_logits": (np.exp(ls) - onehot) * (m / N)[..., None]}

    def kind_guided_masks(self, p, inp):
        T = inp["token"].shape[1]
        t = np.arange(T)[None, :]
        live = inp["mask"].astype(bool)
        rollin = inp["u"].astype(bool)[:, None] & (t < inp["k"][:, None])
        if p["algo"] == "ppo":
            train = value = live
        elif p["algo"] == "ppopp":  # guide roll-in, learner roll-out: train the learner's tokens
            train = value = live & ~rollin
        elif p["algo"] == "aggrevated":  # learner roll-in, guide roll-out
            train, value = live & rollin, live & ~rollin
        else:
            return None
        return {"train_mask": train.astype(np.uint8), "value_mask": value.astype(np.uint8)}

    def kind_toy_exact(self, p, inp):
        V, H, beta = int(p["vocab"]), int(p["horizon"]), p["beta"]
        seq, R = inp["sequence"], inp["task_reward"]
        index = {}
        for s, (x, l) in enumerate(zip(inp["state_prompt"], inp["state_length"])):
            index[(int(x),) + tuple(int(a) for a in inp["state_tokens"][s, :l])] = s
        st = np.array([[index[tuple(int(a) for a in row[:1 + t])] for t in range(H)] for row in seq])
        act = seq[:, 1:]
        ls, lr = log_softmax(inp["logits"]), log_softmax(inp["ref_logits"])
        lp = ls[st, act].sum(axis=1)
        lq = lr[st, act].sum(axis=1)
        X = len(np.unique(seq[:, 0]))
        prob = np.exp(lp)
        value = (prob * R).sum() / X
        kl_value = (prob * (R - beta * (lp - lq))).sum() / X
        opt_value = 0.0
        for x in np.unique(seq[:, 0]):
            sel = seq[:, 0] == x
            z = lq[sel] + R[sel] / beta
            zm = z.max()
            opt_value += beta * (zm + np.log(np.exp(z - zm).sum()))
        opt_value /= X
        # exact gradients by the score-function identity, enumerated
        pg, pgr, Z = np.zeros(ls.shape), np.zeros(ls.shape), np.zeros(ls.shape)
        wk, wr = prob * (R - beta * (lp - lq)) / X, prob * R / X
        zq = np.exp(lq + (R - R.max()) / beta)
        pr = np.exp(ls)
        for t in range(H):
            s, a = st[:, t], act[:, t]
            d = -pr[s]
            d[np.arange(len(s)), a] += 1.0
            np.add.at(pg, s, wk[:, None] * d)
            np.add.at(pgr, s, wr[:, None] * d)
            np.add.at(Z, (s, a), zq)
        opt = Z / Z.sum(axis=1, keepdims=True)
        return {"sequence_prob": prob, "value": value, "kl_value": kl_value, "kl_optimum_value": opt_value,
                "kl_optimum_policy": opt, "policy_gradient": pg, "policy_gradient_reward": pgr}

    def kind_critic_free_advantage(self, p, inp):
        live = inp["mask"].astype(bool)
        r, R = self.shaped_rewards(p, inp, p["beta_kl"] if p["kl_placement"] == "reward" else 0.0)
        group, est = inp["group"], p["estimator"]
        mean, std = self.group_stats(R, group)
        s = np.ones_like(R)
        if est == "grpo":
            base = mean
            if p["scale"] == "group":
                s = 1.0 / (std + p["std_eps"])
            elif p["scale"] == "batch":
                s = s / ((R.std(ddof=1) if len(R) > 1 else 0.0) + p["std_eps"])
        elif est == "rloo":
            cnt = np.array([(group == g).sum() for g in group])
            tot = np.array([R[group == g].sum() for g in group])
            base = np.where(cnt > 1, (tot - R) / np.maximum(cnt - 1, 1), R)
        elif est == "reinforce":
            base = np.full_like(R, R.mean() if p["baseline"] == "mean" else 0.0)
        elif est in ("remax", "guidebase"):
            base = inp["baseline_reward"].astype(np.float64)[group]
        else:
            return None
        A = (R - base) * s
        if est in ("grpo", "rloo"):  # a group of equal rewards carries no signal: exactly 0
            flat = np.array([np.ptp(R[group == g]) == 0 for g in group])
            A = np.where(flat, 0.0, A)
        return {"reward": r, "return": R, "baseline": base, "advantage": np.where(live, A[:, None], 0.0)}

    def kind_kl_estimator(self, p, inp):
        k, dk = self.kl_estimate(p["kl_estimator"], inp["logp"], inp["logp_ref"])
        return {"kl": k, "grad_kl": dk}

    def kind_kl_placement(self, p, inp):
        beta = p["beta_kl"]
        r, R = self.shaped_rewards(p, inp, beta if p["kl_placement"] == "reward" else 0.0)
        m = self.loss_mask(inp, "train_mask")
        if p["kl_placement"] == "loss":
            k, dk = self.kl_estimate(p["kl_estimator"], inp["logp"], inp["logp_ref"])
            w = self.agg_weights(m, p["loss_agg"], m.shape[1])
            kl_loss, grad = beta * (k * w).sum(), beta * dk * w
        else:
            kl_loss, grad = 0.0, np.zeros(m.shape)
        return {"reward": r, "return": R, "kl_term": kl_loss, "grad_logp": grad}

    def kind_policy_loss_knobs(self, p, inp):
        m = self.loss_mask(inp, "train_mask")
        A = inp["advantage"].astype(np.float64)
        lr = self.log_ratio(inp)
        rho = np.exp(lr)
        lo = p["clip"]
        hi = p["clip_high"] if p["clip_high"] > 0 else lo
        s1, s2 = rho * A, np.clip(rho, 1 - lo, 1 + hi) * A
        w = self.agg_weights(m, p["loss_agg"], p["max_length"])
        pl = (-np.minimum(s1, s2) * w).sum()
        grad = np.where(s1 <= s2, -rho * A, 0.0) * w
        beta = p["beta_kl"]
        kl_loss = 0.0
        if beta > 0:
            k, dk = self.kl_estimate(p["kl_estimator"], inp["logp"], inp["logp_ref"])
            kl_loss = (k * w).sum()
            grad = grad + beta * dk * w
        cf = (((rho < 1 - lo) | (rho > 1 + hi)) * m).sum() / m.sum()
        return {"policy_loss": pl, "kl_loss": kl_loss, "loss": pl + beta * kl_loss, "grad_logp": grad,
                "clip_frac": cf}


adapter = NumpyPPO()
