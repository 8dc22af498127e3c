// Memory over a long replay: one Specter server retypes trace after trace (new seeds, new
// documents, each closed afterwards) for `minutes` of wall time; the server's RSS and JS heap are
// sampled every few seconds. Flat means: the second half's slope is near zero.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { root, startClient } from './client';
import { replayTrace } from './replay';
import { makeTrace } from './trace';

export interface MemoryReplayOptions {
  serverPath?: string;
  minutes: number;
  nChars?: number;
  log?: (line: string) => void;
}

export interface MemoryReplayResult {
  minutes: number;
  nTraces: number;
  nKeys: number;
  samples: { tS: number; rssMiB: number; heapMiB: number }[];
  rssMiB: { start: number; end: number; max: number };
  /** Medians over the first and the last five minutes after a five-minute warm-up. */
  afterWarmUp: { rssFirstMiB: number; rssLastMiB: number; heapFirstMiB: number; heapLastMiB: number };
  /** Least-squares slope of RSS over the second half of the run, MiB per minute. */
  secondHalfSlopeMiBPerMin: number;
}

const sources = [
  'node_modules/vscode-languageserver-textdocument/lib/umd/main.js',
  'node_modules/vscode-languageserver-textdocument/lib/esm/main.js',
];

function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

export async function runMemoryReplay(opts: MemoryReplayOptions): Promise<MemoryReplayResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const client = await startClient(opts.serverPath ?? path.join(root, 'dist', 'server.js'), {});
  const samples: MemoryReplayResult['samples'] = [];
  const t0 = performance.now();
  const sample = async (): Promise<void> => {
    const s = await client.typingStats();
    samples.push({ tS: (performance.now() - t0) / 1000, rssMiB: s.rssBytes / 2 ** 20, heapMiB: s.heapUsedBytes / 2 ** 20 });
  };
  const sampler = setInterval(() => void sample(), 5_000);
  let nTraces = 0;
  let nKeys = 0;
  try {
    await client.waitReady();
    await sample();
    while (performance.now() - t0 < opts.minutes * 60_000) {
      const file = sources[nTraces % sources.length] as string;
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      const trace = makeTrace(`memory-${nTraces}`, `file:///bench/memory/${nTraces}/${path.basename(file)}`, 'javascript', text, {
        seed: 1000 + nTraces,
        startFraction: 0.1 + ((nTraces * 0.137) % 0.8),
        nChars: opts.nChars ?? 300,
      });
      await replayTrace(client, trace, { kind: 'adaptive' }, text);
      nTraces++;
      nKeys += trace.events.length;
      log(`memory replay: ${nTraces} traces, ${nKeys} keys, ${((performance.now() - t0) / 60_000).toFixed(1)} min, RSS ${samples[samples.length - 1]?.rssMiB.toFixed(0)} MiB`);
    }
    await sample();
  } finally {
    clearInterval(sampler);
    await client.close();
  }
  const tEnd = samples[samples.length - 1]?.tS ?? 0;
  const half = samples.filter((s) => s.tS >= tEnd / 2).map((s) => ({ x: s.tS / 60, y: s.rssMiB }));
  const rss = samples.map((s) => s.rssMiB);
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
  };
  const window = (fromS: number, toS: number): MemoryReplayResult['samples'] => samples.filter((s) => s.tS >= fromS && s.tS < toS);
  const first = window(300, 600);
  const lastW = window(tEnd - 300, tEnd + 1);
  return {
    afterWarmUp: {
      rssFirstMiB: median(first.map((s) => s.rssMiB)),
      rssLastMiB: median(lastW.map((s) => s.rssMiB)),
      heapFirstMiB: median(first.map((s) => s.heapMiB)),
      heapLastMiB: median(lastW.map((s) => s.heapMiB)),
    },
    minutes: tEnd / 60,
    nTraces,
    nKeys,
    samples,
    rssMiB: { start: rss[0] ?? NaN, end: rss[rss.length - 1] ?? NaN, max: Math.max(...rss) },
    secondHalfSlopeMiBPerMin: slope(half),
  };
}
