// `npm run bench -- typing [--json] [--chars N] [--server PATH]`: typing-trace replay through the
// real language server, Specter (typing-through, cache, prefetch, KV reuse, adaptive debounce)
// against a naive configuration (none of them, fixed debounce) in the same run. Both servers run
// side by side; each trace is replayed on one then the other, alternating which goes first.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, machineLine, quantile, spread, table, updateBenchmarksMd, writeJson } from '../report';
import { root, startClient, type EditorClient } from './client';
import { replayTrace, type DebounceStrategy, type ReplayOutcome } from './replay';
import { runMemoryReplay } from './memory';
import { makeTrace, type Trace } from './trace';
import type { TypingStatsResult } from '../../server/protocol';

export interface TypingBenchOptions {
  /** Built server to test (default dist/server.js). */
  serverPath?: string;
  /** Characters retyped per trace. */
  nChars?: number;
  seed?: number;
  /** The naive configuration's fixed debounce, ms. */
  naiveDebounceMs?: number;
  /**
   * Specter's debounce, fixed at this many ms (as `specter.debounceMs` would) instead of adaptive.
   * The adaptive debounce feeds on measured latency and switches rhythm from run to run; a fixed
   * one asks at the same keystrokes whatever the code under test, for A/B comparisons.
   */
  specterDebounceMs?: number;
  /** `specter.*` settings for both configurations (e.g. `{ monitor: { enabled: false } }`); the naive one turns the typing layer off on top. */
  settings?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface ConfigResult {
  nKeys: number;
  nRequests: number;
  /** Keystrokes whose answer arrived before the next keystroke. */
  nAnswered: number;
  p50Ms: number;
  p95Ms: number;
  /** Latency at keystrokes the user pauses after (next gap > 400 ms, or the last): the same keys in both configurations. */
  pauseP50Ms: number;
  pauseP95Ms: number;
  nPauses: number;
  nPausesAnswered: number;
  cpuMsPerKey: number;
  forwardPerKey: number;
  /** Tokens through the model (prefill and verified drafts included) per keystroke. */
  tokensPerKey: number;
  /** Requests cancelled by a newer keystroke / requests sent. */
  cancelledShare: number;
  typeThroughRate: number;
  cacheHitRate: number;
  prefetchHitRate: number;
  prefetch: { nStarted: number; nDone: number; nCancelled: number; nSkipped: number; nAdopted: number };
  rssMiB: { start: number; end: number; max: number };
  tReplayS: number;
  tCompressedS: number;
}

export interface TypingBenchResult {
  p50Ms: number;
  p95Ms: number;
  cpuMsPerKey: number;
  naiveP50Ms: number;
  naiveP95Ms: number;
  naiveCpuMsPerKey: number;
  pauseP50Ms: number;
  naivePauseP50Ms: number;
  typeThroughRate: number;
  cacheHitRate: number;
  prefetchHitRate: number;
  cancelledShare: number;
  naiveCancelledShare: number;
  forwardPerKey: number;
  naiveForwardPerKey: number;
  /** Final document states whose explicit suggestion is the same in both configurations. */
  finalStatesSame: number;
  finalStates: number;
  /** Keystrokes answered in both configurations with the same suggestion / answered in both. */
  answeredSameShare: number;
  specter: ConfigResult;
  naive: ConfigResult;
  traces: { name: string; nKeys: number; nChars: number }[];
  /**
   * With --reps N > 1: the whole replay N times (fresh servers each time). The top-level figures
   * are then medians over the repetitions; here is each one's Specter/naive ratios.
   */
  reps?: { p50Ratio: number; p95Ratio: number; cpuRatio: number; cpuMsPerKey: number; naiveCpuMsPerKey: number; finalStatesSame: number }[];
  /** Medians over the repetitions of the per-repetition ratios (with --reps). */
  p50RatioMedian?: number;
  cpuRatioMedian?: number;
}

const traceSources = [
  { file: 'node_modules/vscode-languageserver-textdocument/lib/umd/main.js', languageId: 'javascript', at: 0.35 },
  { file: 'node_modules/vscode-languageserver-textdocument/lib/umd/main.js', languageId: 'javascript', at: 0.7 },
];

interface Side {
  name: 'specter' | 'naive';
  client: EditorClient;
  debounce: DebounceStrategy;
  outcomes: ReplayOutcome[];
}

export async function runTypingBench(opts: TypingBenchOptions = {}): Promise<TypingBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const serverPath = opts.serverPath ?? path.join(root, 'dist', 'server.js');
  const nChars = opts.nChars ?? 400;
  const seed = opts.seed ?? 1;
  const settings = opts.settings ?? {};
  const typing = typeof settings['typing'] === 'object' ? settings['typing'] : {};
  const traces: { trace: Trace; fileText: string }[] = traceSources.map((s, i) => {
    const fileText = fs.readFileSync(path.join(root, s.file), 'utf8');
    const name = `${path.basename(s.file)}@${s.at}`;
    return { trace: makeTrace(name, `file:///bench/typing/trace-${i}/${path.basename(s.file)}`, s.languageId, fileText, { seed: seed + i, startFraction: s.at, nChars }), fileText };
  });

  const sides: Side[] = [
    { name: 'specter', client: await startClient(serverPath, settings), debounce: opts.specterDebounceMs !== undefined ? { kind: 'fixed', ms: opts.specterDebounceMs } : { kind: 'adaptive' }, outcomes: [] },
    {
      name: 'naive',
      client: await startClient(serverPath, { ...settings, typing: { ...typing, cache: false, typeThrough: false, prefetch: false, reuse: false } }),
      debounce: { kind: 'fixed', ms: opts.naiveDebounceMs ?? 75 },
      outcomes: [],
    },
  ];
  try {
    for (const side of sides) await side.client.waitReady();
    for (const [i, { trace, fileText }] of traces.entries()) {
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        log(`typing bench: ${side.name} replays ${trace.name} (${trace.events.length} keys)`);
        side.outcomes.push(await replayTrace(side.client, trace, side.debounce, fileText));
      }
    }
  } finally {
    for (const side of sides) await side.client.close();
  }
  const [specterSide, naiveSide] = sides as [Side, Side];
  const specter = summarize(specterSide);
  const naive = summarize(naiveSide);
  let nBoth = 0;
  let nSame = 0;
  let finalSame = 0;
  for (const [t, a] of specterSide.outcomes.entries()) {
    const b = naiveSide.outcomes[t];
    if (b === undefined) continue;
    if (a.finalText === b.finalText) finalSame++;
    for (const [k, ka] of a.keys.entries()) {
      const kb = b.keys[k];
      if (ka.text === undefined || kb?.text === undefined) continue;
      nBoth++;
      if (ka.text === kb.text) nSame++;
    }
  }
  return {
    p50Ms: specter.p50Ms,
    p95Ms: specter.p95Ms,
    cpuMsPerKey: specter.cpuMsPerKey,
    naiveP50Ms: naive.p50Ms,
    naiveP95Ms: naive.p95Ms,
    naiveCpuMsPerKey: naive.cpuMsPerKey,
    pauseP50Ms: specter.pauseP50Ms,
    naivePauseP50Ms: naive.pauseP50Ms,
    typeThroughRate: specter.typeThroughRate,
    cacheHitRate: specter.cacheHitRate,
    prefetchHitRate: specter.prefetchHitRate,
    cancelledShare: specter.cancelledShare,
    naiveCancelledShare: naive.cancelledShare,
    forwardPerKey: specter.forwardPerKey,
    naiveForwardPerKey: naive.forwardPerKey,
    finalStatesSame: finalSame,
    finalStates: specterSide.outcomes.length,
    answeredSameShare: nBoth === 0 ? NaN : nSame / nBoth,
    specter,
    naive,
    traces: traces.map(({ trace }) => ({ name: trace.name, nKeys: trace.events.length, nChars: trace.region.length })),
  };
}

/** The replay `reps` times; figures are medians over the repetitions, ratios taken within each. */
export async function runTypingBenchReps(opts: TypingBenchOptions, reps: number): Promise<TypingBenchResult> {
  const runs: TypingBenchResult[] = [];
  for (let r = 0; r < reps; r++) {
    (opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(`typing bench: repetition ${r + 1}/${reps}`);
    runs.push(await runTypingBench(opts));
  }
  const first = runs[0];
  if (first === undefined) throw new Error('--reps must be at least 1');
  if (runs.length === 1) return first;
  const median = (xs: readonly number[]): number => spread(xs).median;
  const cpuRatio = (x: TypingBenchResult): number => x.cpuMsPerKey / x.naiveCpuMsPerKey;
  const repRows = runs.map((x) => ({
    p50Ratio: x.p50Ms / x.naiveP50Ms,
    p95Ratio: x.p95Ms / x.naiveP95Ms,
    cpuRatio: cpuRatio(x),
    cpuMsPerKey: x.cpuMsPerKey,
    naiveCpuMsPerKey: x.naiveCpuMsPerKey,
    finalStatesSame: x.finalStatesSame,
  }));
  // The repetition whose CPU ratio is the median stands for the per-configuration detail; every
  // top-level number is the median over the repetitions, the final-state counts are summed.
  const mid = [...runs].sort((a, b) => cpuRatio(a) - cpuRatio(b))[Math.floor((runs.length - 1) / 2)] ?? first;
  const medians: Record<string, number> = {};
  for (const [k, v] of Object.entries(first)) if (typeof v === 'number') medians[k] = median(runs.map((x) => x[k as keyof TypingBenchResult] as number));
  return {
    ...mid,
    ...medians,
    finalStatesSame: runs.reduce((s, x) => s + x.finalStatesSame, 0),
    finalStates: runs.reduce((s, x) => s + x.finalStates, 0),
    reps: repRows,
    p50RatioMedian: median(repRows.map((x) => x.p50Ratio)),
    cpuRatioMedian: median(repRows.map((x) => x.cpuRatio)),
  };
}

function summarize(side: Side): ConfigResult {
  const keys = side.outcomes.flatMap((o) => o.keys);
  const latencies = keys.flatMap((k) => (k.latencyMs === undefined ? [] : [k.latencyMs])).sort((a, b) => a - b);
  const nRequests = side.outcomes.reduce((s, o) => s + o.nRequests, 0);
  const nCancelled = side.outcomes.reduce((s, o) => s + o.nCancelled, 0);
  // Counter deltas summed over traces: warm-ups and the final explicit requests are excluded.
  const d = (f: (s: TypingStatsResult) => number): number => side.outcomes.reduce((sum, o) => sum + f(o.after) - f(o.before), 0);
  const nServerRequests = d((s) => s.nRequests);
  const mib = (x: number): number => x / 2 ** 20;
  const pauses = keys.filter((k) => k.gapAfterMs > 400);
  const pauseLatencies = pauses.flatMap((k) => (k.latencyMs === undefined ? [] : [k.latencyMs])).sort((x, y) => x - y);
  const rss = side.outcomes.flatMap((o) => o.rssBytes);
  return {
    nKeys: keys.length,
    nRequests,
    nAnswered: latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p95Ms: quantile(latencies, 0.95),
    pauseP50Ms: quantile(pauseLatencies, 0.5),
    pauseP95Ms: quantile(pauseLatencies, 0.95),
    nPauses: pauses.length,
    nPausesAnswered: pauseLatencies.length,
    cpuMsPerKey: d((s) => s.cpuUserUs + s.cpuSystemUs) / 1000 / keys.length,
    forwardPerKey: d((s) => s.model?.nForward ?? 0) / keys.length,
    tokensPerKey: d((s) => s.model?.nTokens ?? 0) / keys.length,
    cancelledShare: nRequests === 0 ? 0 : nCancelled / nRequests,
    typeThroughRate: d((s) => s.nTypeThrough) / nServerRequests,
    cacheHitRate: d((s) => s.nCacheHits) / nServerRequests,
    prefetchHitRate: d((s) => s.nPrefetchHits + s.prefetch.nAdopted) / nServerRequests,
    prefetch: {
      nStarted: d((s) => s.prefetch.nStarted),
      nDone: d((s) => s.prefetch.nDone),
      nCancelled: d((s) => s.prefetch.nCancelled),
      nSkipped: d((s) => s.prefetch.nSkipped),
      nAdopted: d((s) => s.prefetch.nAdopted),
    },
    rssMiB: { start: mib(rss[0] ?? NaN), end: mib(rss[rss.length - 1] ?? NaN), max: mib(Math.max(...rss)) },
    tReplayS: side.outcomes.reduce((s, o) => s + o.tReplayMs, 0) / 1000,
    tCompressedS: side.outcomes.reduce((s, o) => s + o.tCompressedMs, 0) / 1000,
  };
}

export function typingTable(r: TypingBenchResult): string {
  const row = (name: string, c: ConfigResult): string[] => [
    name,
    fmt(c.p50Ms, 0),
    fmt(c.p95Ms, 0),
    `${c.nAnswered}/${c.nKeys}`,
    `${fmt(c.pauseP50Ms, 0)} / ${fmt(c.pauseP95Ms, 0)} (${c.nPausesAnswered}/${c.nPauses})`,
    fmt(c.cpuMsPerKey, 1),
    fmt(c.forwardPerKey, 2),
    `${fmt(100 * c.cancelledShare, 0)}%`,
    `${fmt(100 * c.typeThroughRate, 0)}% / ${fmt(100 * c.cacheHitRate, 0)}% / ${fmt(100 * c.prefetchHitRate, 0)}%`,
    `${fmt(c.rssMiB.start, 0)}→${fmt(c.rssMiB.end, 0)} (max ${fmt(c.rssMiB.max, 0)})`,
  ];
  return table(
    ['configuration', 'p50 ms', 'p95 ms', 'answered keys', 'at pauses: p50 / p95 ms (answered)', 'CPU ms/key', 'forwards/key', 'requests cancelled', 'typing-through / cache / prefetch hits', 'RSS MiB'],
    [row('Specter', r.specter), row('naive', r.naive)],
  );
}

/**
 * `npm run bench -- typing [--json] [--reps N] [--chars N] [--seed S] [--server PATH] [--set key=json …] [--specter-debounce MS] [--memory-minutes M]`.
 * `--set` changes a `specter.*` setting for both configurations, e.g. `--set monitor.enabled=false`.
 * `--specter-debounce` fixes Specter's debounce (TypingBenchOptions.specterDebounceMs).
 */
export async function typingBenchMain(args: readonly string[]): Promise<void> {
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const opts: TypingBenchOptions = {};
  const server = value('--server');
  if (server !== undefined) opts.serverPath = path.resolve(server);
  const chars = value('--chars');
  if (chars !== undefined) opts.nChars = Number(chars);
  const seed = value('--seed');
  if (seed !== undefined) opts.seed = Number(seed);
  const debounce = value('--specter-debounce');
  if (debounce !== undefined) opts.specterDebounceMs = Number(debounce);
  const sets = args.flatMap((a, i) => (a === '--set' && args[i + 1] !== undefined ? [args[i + 1] as string] : []));
  if (sets.length > 0) {
    const settings: Record<string, unknown> = {};
    for (const kv of sets) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`--set wants key=value, got ${kv}`);
      const keys = kv.slice(0, eq).split('.');
      const raw = kv.slice(eq + 1);
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        v = raw;
      }
      let at = settings;
      for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
      at[keys[keys.length - 1] as string] = v;
    }
    opts.settings = settings;
  }
  const repsArg = value('--reps');
  const reps = repsArg === undefined ? 1 : Math.max(1, Math.round(Number(repsArg)));
  const memoryMinutes = value('--memory-minutes');
  if (memoryMinutes !== undefined) {
    const memory = await runMemoryReplay({ minutes: Number(memoryMinutes), ...(opts.serverPath !== undefined ? { serverPath: opts.serverPath } : {}) });
    writeJson('typing-memory', memory);
    updateBenchmarksMd(
      'typing-memory',
      [
        '## Server memory over a long typing replay (issue 6)',
        '',
        `\`npm run bench -- typing --memory-minutes ${memoryMinutes}\` — ${machineLine()}. ${memory.nTraces} traces, ${memory.nKeys} keystrokes in ${fmt(memory.minutes, 1)} min.`,
        '',
        `RSS ${fmt(memory.rssMiB.start, 0)} → ${fmt(memory.rssMiB.end, 0)} MiB (max ${fmt(memory.rssMiB.max, 0)}); slope over the second half ${fmt(memory.secondHalfSlopeMiBPerMin, 2)} MiB/min.`,
        '',
        `After a 5-minute warm-up (medians of minutes 5–10 vs the last 5 minutes): RSS ${fmt(memory.afterWarmUp.rssFirstMiB, 0)} → ${fmt(memory.afterWarmUp.rssLastMiB, 0)} MiB, V8 heap in use ${fmt(memory.afterWarmUp.heapFirstMiB, 0)} → ${fmt(memory.afterWarmUp.heapLastMiB, 0)} MiB. Default settings (V8 heap: the server's main thread; the monitor's TypeScript service runs in a worker thread, whose memory counts in RSS only); every trace opens a new document in a new folder.`,
      ].join('\n'),
    );
    process.stdout.write(`${JSON.stringify(args.includes('--json') ? memory : { ...memory, samples: memory.samples.length })}\n`);
    return;
  }
  const ratio = (a: number, b: number): string => `${fmt((100 * a) / b, 0)}%`;
  const result = await runTypingBenchReps(opts, reps);
  writeJson('typing', result);
  const repLine =
    result.reps === undefined
      ? ''
      : ` ${result.reps.length} repetitions (fresh servers each); figures are medians over them. Per repetition, Specter/naive p50: ${result.reps.map((x) => ratio(x.p50Ratio, 1)).join(', ')}; CPU per key: ${result.reps.map((x) => ratio(x.cpuRatio, 1)).join(', ')} (median ${ratio(result.cpuRatioMedian ?? NaN, 1)}).`;
  const setLine =
    (sets.length === 0 ? '' : ` Settings for both: ${sets.map((x) => `\`${x}\``).join(', ')}.`) +
    (opts.specterDebounceMs === undefined ? '' : ` Specter's debounce fixed at ${opts.specterDebounceMs} ms (not adaptive).`);
  updateBenchmarksMd(
    'typing',
    [
      '## Typing-trace replay (issue 6)',
      '',
      `\`npm run bench -- typing${reps > 1 ? ` --reps ${reps}` : ''}${sets.map((x) => ` --set ${x}`).join('')}${opts.specterDebounceMs === undefined ? '' : ` --specter-debounce ${opts.specterDebounceMs}`}\` — ${machineLine()}. ${result.traces.map((t) => `${t.name}: ${t.nChars} chars, ${t.nKeys} keys`).join('; ')}.${repLine}${setLine}`,
      '',
      typingTable(result),
      '',
      `Specter vs naive: p50 ${ratio(result.p50Ms, result.naiveP50Ms)}, CPU per key ${ratio(result.cpuMsPerKey, result.naiveCpuMsPerKey)}. ` +
        `Final states with the same explicit suggestion: ${result.finalStatesSame}/${result.finalStates}; keystrokes answered in both with the same suggestion: ${fmt(100 * result.answeredSameShare, 0)}%. ` +
        `Load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min).`,
      '',
      'Method: each trace retypes a region of a file the model was not trained on, one key every 60–200 ms (seeded), with thinking pauses (0.3–2.5 s), ' +
        'typos fixed by backspace, and auto-indent after Enter; both servers get the same keys. Latency runs from the keystroke (debounce included) to the answer, ' +
        'counted only when the answer arrives before the next keystroke ("answered keys"); "at pauses" are the keys followed by a gap over 400 ms, the same keys in both ' +
        'configurations. Naive: `typing.cache/typeThrough/prefetch/reuse = false` (KV cache emptied before each request), fixed 75 ms debounce; Specter: defaults and ' +
        'the adaptive debounce of server/typing/debounce-policy.ts. Pauses are cut short only once nothing is pending and the server reports itself idle. CPU is the server ' +
        'process\'s own (process.cpuUsage, all threads) per keystroke, warm-ups excluded.',
    ].join('\n'),
  );
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${typingTable(result)}\n`);
}

if (require.main === module) {
  typingBenchMain(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`typing bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
