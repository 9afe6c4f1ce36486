#!/usr/bin/env python3
"""bench_peer: the PyTorch (CPU) peer of `rlgf bench`, for `make bench`.

The same model and batch as rlgf's IMDB reference budget: a pre-norm GPT with an LM head tied to
the token embedding (policy, pi_ref) and one with a scalar head (critic), L=2, C=32, 4 heads,
V=512; 112 trajectories of a 64-token prompt and 48 sampled tokens (top-k 50, KV cache); scoring
with pi_ref and the critic; 5 PPO epochs of 4 minibatches of 28, each with the clipped policy
loss, the target NLL of a 48-token reference continuation and the clipped value loss, then AdamW.
Timed like rlgf bench: one warm-up iteration, then the median of --reps iterations. Prints one
`PEER ...` line for tools/bench.sh. Random prompts and references: only the speed matters here.
"""
import argparse
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.fcproj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x, cache=None):
        B, T, C = x.shape
        NH, hs = self.NH, C // self.NH
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, NH, hs).transpose(1, 2)
        k = k.view(B, T, NH, hs).transpose(1, 2)
        v = v.view(B, T, NH, hs).transpose(1, 2)
        if cache is not None:
            if cache[0] is not None:
                k = torch.cat([cache[0], k], dim=2)
                v = torch.cat([cache[1], v], dim=2)
            cache[0], cache[1] = k, v
        Tk = k.shape[2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(T, Tk, dtype=torch.bool).tril(diagonal=Tk - T)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.proj(y)
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, S, C, L, NH, scalar):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(S, C)
        self.blocks = nn.ModuleList(Block(C, NH) for _ in range(L))
        self.lnf = nn.LayerNorm(C)
        self.vhead = nn.Linear(C, 1) if scalar else None

    def forward(self, idx, caches=None, pos0=0):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(pos0, pos0 + T))
        for i, b in enumerate(self.blocks):
            x = b(x, caches[i] if caches is not None else None)
        x = self.lnf(x)
        return self.vhead(x).squeeze(-1) if self.vhead is not None else x @ self.wte.weight.t()


def sample_topk(logits, k):
    v, i = logits.topk(k, dim=-1)
    return i.gather(-1, torch.multinomial(v.softmax(-1), 1))


def iteration(a, policy, ref, critic, opt):
    B, P, G = a.batch, a.prompt, a.gen
    prompts = torch.randint(0, a.vocab, (B, P))
    refs = torch.cat([prompts, torch.randint(0, a.vocab, (B, G))], dim=1)
    t0 = time.perf_counter()
    with torch.no_grad():  # rollout: generation through the KV cache, then scoring
        caches = [[None, None] for _ in range(a.layers)]
        logits = policy(prompts, caches)[:, -1]
        seq = [prompts]
        logp_old = []
        for t in range(G):
            tok = sample_topk(logits, 50)
            logp_old.append(logits.log_softmax(-1).gather(-1, tok))
            seq.append(tok)
            if t + 1 < G:
                logits = policy(tok, caches, P + t)[:, -1]
        seq = torch.cat(seq, dim=1)
        logp_old = torch.cat(logp_old, dim=1)
        gen = seq[:, P:]
        logp_ref = ref(seq)[:, P - 1:-1].log_softmax(-1).gather(-1, gen.unsqueeze(-1)).squeeze(-1)
        values = critic(seq)[:, P - 1:-1]
        adv = torch.randn(B, G)
        returns = values + adv
    t1 = time.perf_counter()
    for epoch in range(a.epochs):  # update
        perm = torch.randperm(B)
        for m0 in range(0, B, a.minibatch):
            ix = perm[m0:m0 + a.minibatch]
            lp = policy(seq[ix])[:, P - 1:-1].log_softmax(-1).gather(-1, gen[ix].unsqueeze(-1)).squeeze(-1)
            ratio = (lp - logp_old[ix]).exp()
            pl = -torch.min(ratio * adv[ix], ratio.clamp(0.8, 1.2) * adv[ix]).mean()
            tl = F.cross_entropy(policy(refs[ix])[:, P - 1:-1].reshape(-1, a.vocab), refs[ix][:, P:].reshape(-1))
            v = critic(seq[ix])[:, P - 1:-1]
            vc = values[ix] + (v - values[ix]).clamp(-0.2, 0.2)
            vl = 0.5 * torch.max((v - returns[ix]) ** 2, (vc - returns[ix]) ** 2).mean()
            loss = pl + 0.1 * tl + 0.5 * vl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(policy.parameters()) + list(critic.parameters()), 1.0)
            opt.step()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--prompt", type=int, default=64)
    p.add_argument("--gen", type=int, default=48)
    p.add_argument("--batch", type=int, default=112)
    p.add_argument("--minibatch", type=int, default=28)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    if a.reps < 1:
        p.error("--reps needs at least 1 timed iteration")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    S = a.prompt + a.gen
    policy = GPT(a.vocab, S, a.channels, a.layers, a.heads, False)
    ref = GPT(a.vocab, S, a.channels, a.layers, a.heads, False)
    critic = GPT(a.vocab, S, a.channels, a.layers, a.heads, True)
    opt = torch.optim.AdamW(list(policy.parameters()) + list(critic.parameters()), lr=1e-4, eps=1e-5,
                            weight_decay=1e-6)
    iteration(a, policy, ref, critic, opt)  # warm-up
    rs, us, its = [], [], []
    for _ in range(a.reps):
        r, u = iteration(a, policy, ref, critic, opt)
        rs.append(r)
        us.append(u)
        its.append(r + u)
    med = lambda v: sorted(v)[len(v) // 2] if len(v) % 2 else 0.5 * (sorted(v)[len(v) // 2 - 1] + sorted(v)[len(v) // 2])
    roll, upd, it = med(rs), med(us), med(its)
    tok = a.batch * a.gen
    print(f"PEER torch={torch.__version__} threads={a.threads} rollout_s={roll:.6f} update_s={upd:.6f} "
          f"iteration_s={it:.6f} rollout_tok={tok} update_tok={tok * a.epochs}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
