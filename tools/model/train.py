#!/usr/bin/python3
"""Train specter-tiny.  Wall-clock-budgeted: the cosine LR schedule runs over --minutes of training
time (so the run finishes on time on a shared 2-core machine); checkpoints every --ckpt-minutes
with full optimizer/RNG state; rerunning the same command resumes from work/ckpt.pt.

Sequence length curriculum: 512-token rows for the first --short-frac of the time, then 1024-token
rows (max_position_embeddings) so all positions the model will see are trained.
"""
import argparse, csv, json, math, os, random, sys, time
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe, data
from model import LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')

ap = argparse.ArgumentParser()
ap.add_argument('--minutes', type=float, default=88)
ap.add_argument('--tokens-per-step', type=int, default=8192)
ap.add_argument('--lr', type=float, default=2e-3)
ap.add_argument('--min-lr-frac', type=float, default=0.05)
ap.add_argument('--warmup-steps', type=int, default=60)
ap.add_argument('--wd', type=float, default=0.1)
ap.add_argument('--short-frac', type=float, default=0.5)
ap.add_argument('--ckpt-minutes', type=float, default=10)
ap.add_argument('--ckpt', default=os.path.join(WORK, 'ckpt.pt'))
ap.add_argument('--log', default=os.path.join(WORK, 'loss.csv'))
ap.add_argument('--tokenizer', default=os.path.join(HERE, '..', '..', 'models', 'specter-tiny', 'tokenizer.json'))
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--layers', type=int, default=4)
ap.add_argument('--fim-phase', action='store_true',
                help='FIM-dense phase: start from --init (the first phase\'s final checkpoint), rows of short FIM '
                     'samples, loss weighted to the middles (data.Sampler.fim_row), 1024-token rows throughout')
ap.add_argument('--init', default=os.path.join(WORK, 'ckpt.pt'))
ap.add_argument('--copy-phase', action='store_true',
                help='copy phase: start from --init-weights (a model.safetensors), rows that mix near-copies of '
                     'real blocks (data.CopySampler.copy_row, loss on the copy) with the FIM-dense samples')
ap.add_argument('--row-tokens', type=int, default=0, help='copy phase: row length (default 1024)')
ap.add_argument('--p-repeat', type=float, default=0.0, help='copy phase: share of repeated-span samples')
ap.add_argument('--p-copy', type=float, default=0.5, help='copy phase: share of near-copy samples')
ap.add_argument('--init-weights', default=os.path.join(HERE, '..', '..', 'models', 'specter-tiny', 'model.safetensors'))
args = ap.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
tok = bpe.Tokenizer(args.tokenizer)
cfg = dict(num_hidden_layers=args.layers, hidden_size=256, intermediate_size=704,
           num_attention_heads=4, num_key_value_heads=2, head_dim=64, vocab_size=4096,
           max_position_embeddings=1024)
model = LlamaForCausalLM(cfg)
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.wd}, {'params': no_decay, 'weight_decay': 0.0}],
                        lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
sampler = (data.CopySampler if args.copy_phase else data.Sampler)(tok, os.path.join(WORK, 'corpus', 'train.jsonl'), seed=args.seed + 1)
state = {'step': 0, 'elapsed': 0.0, 'tokens': 0}
if args.copy_phase and not os.path.exists(args.ckpt):
    import safetensors_io
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in safetensors_io.load(args.init_weights).items()})
    print(f"copy phase: starting from {args.init_weights} (fresh optimizer)", flush=True)
elif args.fim_phase and not os.path.exists(args.ckpt):
    ck = torch.load(args.init)
    model.load_state_dict(ck['model'])
    opt.load_state_dict(ck['opt'])
    print(f"FIM phase: starting from {args.init} (step {ck['state']['step']}, {ck['state']['tokens']} tokens)", flush=True)
elif os.path.exists(args.ckpt):
    ck = torch.load(args.ckpt)
    model.load_state_dict(ck['model'])
    opt.load_state_dict(ck['opt'])
    state = ck['state']
    sampler.rng.setstate(ck['sampler_rng'])
    torch.set_rng_state(ck['torch_rng'])
    print(f"resumed from {args.ckpt}: step {state['step']}, {state['elapsed'] / 60:.1f} min, {state['tokens']} tokens", flush=True)
print(f"params: {sum(p.numel() for p in model.parameters())}", flush=True)
budget = args.minutes * 60


def lr_at(step, frac):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    f = min(1.0, frac)
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * f)))


def save():
    tmp = args.ckpt + '.tmp'
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'config': model.config,
                'sampler_rng': sampler.rng.getstate(), 'torch_rng': torch.get_rng_state(), 'args': vars(args)}, tmp)
    os.replace(tmp, args.ckpt)


if os.path.exists(args.log):  # drop rows logged after the checkpoint we resumed from
    with open(args.log) as f:
        rows = list(csv.reader(f))
    keep = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= state['step']] if rows else []
    with open(args.log, 'w', newline='') as f:
        csv.writer(f).writerows(keep)
new_log = not os.path.exists(args.log) or os.path.getsize(args.log) == 0
logf = open(args.log, 'a', newline='')
w = csv.writer(logf)
if new_log:
    w.writerow(['step', 'elapsed_s', 'tokens', 'lr', 'loss', 'seq_len', 'tok_per_s'])
last_ckpt = time.time()
model.train()
while state['elapsed'] < budget:
    t0 = time.time()
    frac = state['elapsed'] / budget
    T = 512 if frac < args.short_frac and not (args.fim_phase or args.copy_phase) else 1024
    if args.copy_phase and args.row_tokens:
        T = args.row_tokens
    B = max(1, args.tokens_per_step // T)
    if args.fim_phase or args.copy_phase:
        made = [sampler.copy_row(T + 1, p_copy=args.p_copy, p_repeat=args.p_repeat) if args.copy_phase else sampler.fim_row(T + 1) for _ in range(B)]
        rows = torch.tensor([m[0] for m in made], dtype=torch.long)
        weights = torch.tensor([m[1][1:] for m in made], dtype=torch.float32)
    else:
        rows = torch.tensor([sampler.row(T + 1) for _ in range(B)], dtype=torch.long)
        weights = None
    lr = lr_at(state['step'], frac)
    for g in opt.param_groups:
        g['lr'] = lr
    logits, _ = model(rows[:, :-1])
    if weights is None:
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
    else:
        per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction='none')
        loss = (per_token * weights.reshape(-1)).sum() / weights.sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    dt = time.time() - t0
    state['step'] += 1
    state['elapsed'] += dt
    state['tokens'] += B * T
    w.writerow([state['step'], f"{state['elapsed']:.1f}", state['tokens'], f'{lr:.6g}', f'{loss.item():.4f}', T, f'{B * T / dt:.0f}'])
    if state['step'] % 10 == 0:
        logf.flush()
        print(f"step {state['step']} {state['elapsed'] / 60:.1f}/{args.minutes:.0f} min tokens {state['tokens']} "
              f"lr {lr:.2e} loss {loss.item():.4f} {B * T / dt:.0f} tok/s", flush=True)
    if time.time() - last_ckpt > args.ckpt_minutes * 60:
        save()
        last_ckpt = time.time()
save()
logf.flush()
print(f"done: step {state['step']} tokens {state['tokens']} elapsed {state['elapsed'] / 60:.1f} min", flush=True)
