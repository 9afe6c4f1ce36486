"""A plain PyTorch implementation of the PPO losses, checked against rlgf's conformance kit.

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


KINDS = {"gae": gae, "ppo_policy_loss": ppo_policy_loss, "value_loss": value_loss, "entropy": entropy,
         "target_nll": target_nll, "toy_exact": toy_exact, "ppo_step": ppo_step}


def adapter(case):
    fn = KINDS.get(case.kind)
    if fn is None:
        return None
    return {k: v.detach().numpy() if torch.is_tensor(v) else v for k, v in fn(case.params, case.inputs).items()}
