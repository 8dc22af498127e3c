#!/usr/bin/python3
"""Plot work/loss.csv (training loss, EMA-smoothed, vs tokens seen) to models/specter-tiny/loss.png;
with a third argument (work/loss_fim.csv), the FIM-dense phase is drawn after it (its loss is weighted
to the FIM middles, so it is a different quantity: drawn in its own colour)."""
import csv, os, sys
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

HERE = os.path.dirname(os.path.abspath(__file__))
LOG = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'work', 'loss.csv')
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny', 'loss.png')
FIM_LOG = sys.argv[3] if len(sys.argv) > 3 else None


def series(path, offset_tokens=0.0):
    rows = list(csv.DictReader(open(path)))
    tok = [offset_tokens + int(r['tokens']) / 1e6 for r in rows]
    loss = [float(r['loss']) for r in rows]
    ema, e = [], 0.0
    for i, v in enumerate(loss):
        e = 0.95 * e + 0.05 * v
        ema.append(e / (1 - 0.95 ** (i + 1)))  # bias-corrected EMA
    return rows, tok, loss, ema, [float(r['lr']) for r in rows]


rows, tok, loss, ema, lr = series(LOG)
fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
ax.plot(tok, loss, color='#9ecae1', lw=0.6, label='loss (per step)')
ax.plot(tok, ema, color='#08519c', lw=1.6, label='loss (EMA 0.95)')
lo, hi = min(ema), max(loss)
minutes = float(rows[-1]['elapsed_s']) / 60
steps, total = int(rows[-1]['step']), tok[-1]
ax2 = ax.twinx()
ax2.plot(tok, lr, color='#fd8d3c', lw=0.8, label='learning rate')
if FIM_LOG:
    frows, ftok, floss, fema, flr = series(FIM_LOG, tok[-1])
    ax.plot(ftok, floss, color='#c7e9c0', lw=0.6)
    ax.plot(ftok, fema, color='#238b45', lw=1.6, label='FIM phase: loss weighted to middles (EMA)')
    ax.axvline(tok[-1], color='grey', lw=0.8, ls='--')
    ax2.plot(ftok, flr, color='#fd8d3c', lw=0.8)
    lo, hi = min(lo, min(fema)), max(hi, max(floss))
    minutes += float(frows[-1]['elapsed_s']) / 60
    steps, total = steps + int(frows[-1]['step']), ftok[-1]
ax.set_xlabel('training tokens seen (millions)')
ax.set_ylabel('cross-entropy (nats/token)')
ax.set_ylim(max(0, lo - 0.4), min(8.5, hi + 0.1))
ax.grid(alpha=0.3)
ax2.set_ylabel('learning rate')
h1, l1 = ax.get_legend_handles_labels()
h2, l2 = ax2.get_legend_handles_labels()
ax.legend(h1 + h2, l1 + l2, loc='upper right')
ax.set_title(f'specter-tiny training loss ({steps} steps, {total:.1f}M tokens, {minutes:.0f} min)')
fig.tight_layout()
fig.savefig(OUT)
print('wrote', OUT)
