"""A plain PyTorch implementation of the PPO and GRPO losses, checked against rlgf's conformance kit.

    rlgf conformance export kit/
    python3 tools/conformance_check.py kit/ --adapter tools/conformance_torch_adapter.py:adapter

This is how you would check your own trainer: write the loss the way your code does (here,
masked per-token means and torch.autograd, as most PyTorch RLHF code does), and return the
quantities the kit expects. Gradients come from autograd, w.r.t. the leaf tensors the kit
names (logp, value, logits). Kinds it does not implement return None and show as SKIP.
`make conformance-torch` installs Debian's python3-torch and runs this.
"""
try:
    import torch
except ImportError as e:  # the checker reports this and exits 2
    raise ImportError("conformance_torch_adapter needs PyTorch (Debian: apt-get install python3-torch, "
                      "or `make conformance-torch`): %s" % e)

torch.set_default_dtype(torch.float64)


def t(x):
    return torch.as_tensor(x).to(torch.float64)


def masked_mean(x, m):
    return (x * m).sum() / m.sum()


def gae(p, inp):
    mask = torch.as_tensor(inp["mask"]).bool()
    B, T = mask.shape
    lengths = mask.sum(1)
    kl = t(inp["logp_old"]) - t(inp["logp_ref"])
    on = (torch.as_tensor(inp["actor"]) == 0) | bool(p["kl_on_guide"])
    beta = p["beta_kl"] if p["kl_in_reward"] else 0.0
    r = torch.where(mask & on, -beta * kl, torch.zeros(()))
    r[torch.arange(B), lengths - 1] += t(inp["task_reward"])
    v = torch.where(mask, t(inp["value_old"]), torch.zeros(()))  # V past the end = 0
    adv = torch.zeros(B, T)
    last = torch.zeros(B)
    for s in reversed(range(T)):
        v_next = v[:, s + 1] if s + 1 < T else torch.zeros(B)
        delta = r[:, s] + p["gamma"] * v_next - v[:, s]
        last = torch.where(mask[:, s], delta + p["gamma"] * p["lambda"] * last, torch.zeros(()))
        adv[:, s] = last
    return {"reward": r, "advantage": adv, "returns": adv + v, "return": (r * mask).sum(1)}


def ppo_policy_loss(p, inp):
    m = t(inp["train_mask"])
    logp = t(inp["logp"]).requires_grad_(True)
    old = t(inp["logp_old"])
    A = t(inp["advantage"])
    if p["norm_adv"]:
        sel = m.bool()
        A = (A - A[sel].mean()) / (A[sel].std() + 1e-8)  # torch.std is unbiased
    ratio = torch.exp(logp - old)
    s1 = ratio * A
    s2 = torch.clamp(ratio, 1 - p["clip"], 1 + p["clip"]) * A
    loss = masked_mean(-torch.min(s1, s2), m)
    loss.backward()
    with torch.no_grad():
        lr = logp - old
        return {"policy_loss": loss.detach(), "grad_logp": logp.grad, "advantage_used": A,
                "approx_kl": masked_mean((ratio - 1) - lr, m),
                "clip_frac": masked_mean(((ratio - 1).abs() > p["clip"]).double(), m)}


def value_loss(p, inp):
    m = t(inp["value_mask"])
    v = t(inp["value"]).requires_grad_(True)
    old, G = t(inp["value_old"]), t(inp["returns"])
    un = (v - G) ** 2
    if p["value_clip"]:
        vc = torch.max(torch.min(v, old + p["vf_clip"]), old - p["vf_clip"])
        per = torch.max(un, (vc - G) ** 2)
        frac = masked_mean((vc != v).double(), m)
    else:
        per, frac = un, torch.zeros(())
    loss = 0.5 * masked_mean(per, m)
    loss.backward()
    return {"value_loss": loss.detach(), "grad_value": v.grad, "value_clip_frac": frac.detach()}


def entropy(p, inp):
    m = t(inp["train_mask"])
    z = t(inp["logits"]).requires_grad_(True)
    ls = torch.log_softmax(z, -1)
    ent = masked_mean(-(ls.exp() * ls).sum(-1), m)
    ent.backward()
    return {"entropy": ent.detach(), "grad_logits": z.grad}


def target_nll(p, inp):
    m = t(inp["ref_mask"])
    z = t(inp["logits"]).requires_grad_(True)
    y = torch.as_tensor(inp["ref_token"]).long()
    nll = -torch.log_softmax(z, -1).gather(-1, y[..., None])[..., 0]
    loss = masked_mean(nll, m)
    loss.backward()
    return {"target_loss": loss.detach(), "grad_logits": z.grad}


def ppo_step(p, inp):
    """What a trainer does with a batch: GAE, then one loss; gradients by one backward pass."""
    with torch.no_grad():
        g = gae(p, inp)
    mask = torch.as_tensor(inp["mask"]).bool()
    m, mv = t(inp["train_mask"]), t(inp["value_mask"])
    adv = torch.where(mask, g["advantage"], torch.zeros(()))
    ret = torch.where(mask, g["returns"], torch.zeros(()))
    logp = t(inp["logp"]).requires_grad_(True)
    v = t(inp["value"]).requires_grad_(True)
    A = adv
    if p["norm_adv"]:
        sel = m.bool()
        A = (adv - adv[sel].mean()) / (adv[sel].std() + 1e-8)
    ratio = torch.exp(logp - t(inp["logp_old"]))
    pl = masked_mean(-torch.min(ratio * A, torch.clamp(ratio, 1 - p["clip"], 1 + p["clip"]) * A), m)
    ls = torch.log_softmax(t(inp["logits"]), -1)
    ent = masked_mean(-(ls.exp() * ls).sum(-1), m)
    old = t(inp["value_old"])
    un = (v - ret) ** 2
    if p["value_clip"]:
        vc = torch.max(torch.min(v, old + p["vf_clip"]), old - p["vf_clip"])
        un = torch.max(un, (vc - ret) ** 2)
    vl = 0.5 * masked_mean(un, mv)
    loss = pl - p["ent_coef"] * ent + p["vf_coef"] * vl
    loss.backward()
    return {"advantage": g["advantage"], "returns": g["returns"], "policy_loss": pl.detach(),
            "value_loss": vl.detach(), "entropy": ent.detach(), "loss": loss.detach(),
            "grad_logp": logp.grad, "grad_value": v.grad}


def toy_exact(p, inp):
    """J_beta by enumeration and its exact gradient by autograd: what an estimator's expectation
    must equal."""
    H, beta = int(p["horizon"]), p["beta"]
    seq = torch.as_tensor(inp["sequence"]).long()
    index = {}
    for s in range(len(inp["state_prompt"])):
        l = int(inp["state_length"][s])
        index[(int(inp["state_prompt"][s]),) + tuple(int(a) for a in inp["state_tokens"][s, :l])] = s
    st = torch.tensor([[index[tuple(int(a) for a in row[:1 + k])] for k in range(H)] for row in seq.tolist()])
    act = seq[:, 1:]
    R = t(inp["task_reward"])
    X = len(torch.unique(seq[:, 0]))

    def objective(z, b):
        ls, lr = torch.log_softmax(z, -1), torch.log_softmax(t(inp["ref_logits"]), -1)
        lp, lq = ls[st, act].sum(1), lr[st, act].sum(1)
        return (lp.exp() * (R - b * (lp - lq))).sum() / X, lp.exp()

    z = t(inp["logits"]).requires_grad_(True)
    J, prob = objective(z, beta)
    J.backward()
    pg = z.grad.clone()
    z2 = t(inp["logits"]).requires_grad_(True)
    J0, _ = objective(z2, 0.0)
    J0.backward()
    return {"sequence_prob": prob.detach(), "value": J0.detach(), "kl_value": J.detach(),
            "policy_gradient": pg, "policy_gradient_reward": z2.grad}


def kl_k(est, logp, ref):
    lr = ref - logp  # log rho
    if est == "k1":
        return logp - ref
    if est == "k2":
        return 0.5 * lr ** 2
    if est == "k3":
        return torch.expm1(lr) - lr
    raise NotImplementedError("kl_estimator '%s'" % est)


def kl_estimator(p, inp):
    logp = t(inp["logp"]).requires_grad_(True)
    k = kl_k(p["kl_estimator"], logp, t(inp["logp_ref"]))
    k.sum().backward()  # each k_t depends on its own logp_t only: the sum's gradient is dk/dlogp
    return {"kl": k.detach(), "grad_kl": logp.grad}


def grpo_advantage(p, inp):
    """GRPO as TRL writes it: sequence reward (task reward - beta sum of KL over the sequence's
    learner tokens), then (R - group mean) / (group std + eps), broadcast over the tokens."""
    if p["estimator"] != "grpo":
        raise NotImplementedError("this adapter implements GRPO only, not '%s'" % p["estimator"])
    mask = torch.as_tensor(inp["mask"]).bool()
    on = mask & ((torch.as_tensor(inp["actor"]) == 0) | bool(p["kl_on_guide"]))
    beta = p["beta_kl"] if p["kl_placement"] == "reward" else 0.0
    B = mask.shape[0]
    lengths = mask.sum(1)
    r = torch.zeros(mask.shape)
    if beta != 0:
        r = torch.where(on, -beta * kl_k(p["kl_estimator"], t(inp["logp_old"]), t(inp["logp_ref"])), r)
    r[torch.arange(B), lengths - 1] += t(inp["task_reward"])
    r = r.float().double()  # rlgf stores per-token rewards as float32
    R = r.sum(1)
    K = int(p["group_size"])
    G = R.view(-1, K)  # groups are K consecutive trajectories
    mean = G.mean(1, keepdim=True).expand_as(G).reshape(-1)
    std = (G.std(1, keepdim=True) if K > 1 else torch.zeros(G.shape[0], 1)).expand_as(G).reshape(-1)
    if p["scale"] == "group":
        A = (R - mean) / (std + p["std_eps"])
    elif p["scale"] == "batch":
        A = (R - mean) / (R.std() + p["std_eps"])
    else:
        A = R - mean
    flat = (G.max(1).values == G.min(1).values).repeat_interleave(K)  # no signal: exactly 0
    A = torch.where(flat, torch.zeros(()), A)
    return {"reward": r, "return": R, "baseline": mean, "advantage": torch.where(mask, A[:, None], torch.zeros(()))}


def policy_loss_knobs(p, inp):
    """The GRPO/DAPO policy loss: asymmetric clip, loss.agg, k-estimator KL in the loss."""
    m = t(inp["train_mask"])
    logp = t(inp["logp"]).requires_grad_(True)
    A = t(inp["advantage"])
    ratio = torch.exp(logp - t(inp["logp_old"]))
    lo = p["clip"]
    hi = p["clip_high"] if p["clip_high"] > 0 else lo
    per = -torch.min(ratio * A, torch.clamp(ratio, 1 - lo, 1 + hi) * A)
    L = m.sum(1, keepdim=True)
    S = (L > 0).sum()
    if p["loss_agg"] == "token_mean":
        w = m / m.sum()
    elif p["loss_agg"] == "seq_mean_token_mean":
        w = torch.where(L > 0, m / L.clamp(min=1), torch.zeros(())) / S
    else:  # seq_mean_token_sum_norm
        w = m / (S * p["max_length"])
    pl = (per * w).sum()
    kl = (kl_k(p["kl_estimator"], logp, t(inp["logp_ref"])) * w).sum() if p["beta_kl"] > 0 else torch.zeros(())
    loss = pl + p["beta_kl"] * kl
    loss.backward()
    with torch.no_grad():
        cf = masked_mean(((ratio < 1 - lo) | (ratio > 1 + hi)).double(), m)
    return {"policy_loss": pl.detach(), "kl_loss": kl.detach(), "loss": loss.detach(), "grad_logp": logp.grad,
            "clip_frac": cf}


KINDS = {"kl_estimator": kl_estimator, "critic_free_advantage": grpo_advantage, "policy_loss_knobs": policy_loss_knobs,
         "gae": gae, "ppo_policy_loss": ppo_policy_loss, "value_loss": value_loss, "entropy": entropy,
         "target_nll": target_nll, "toy_exact": toy_exact, "ppo_step": ppo_step}


def adapter(case):
    fn = KINDS.get(case.kind)
    if fn is None:
        return None
    return {k: v.detach().numpy() if torch.is_tensor(v) else v for k, v in fn(case.params, case.inputs).items()}
