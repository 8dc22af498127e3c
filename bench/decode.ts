// Issue 2 benchmark, one run, interleaved repetitions on the same ONNX model:
//  - greedy decode tokens/s and prefill tokens/s: Specter's engine vs transformers.js `generate`;
//  - latency of a completion after one typed character with KV reuse vs cold.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from '../server/engine/decode';
import { suppressIds } from '../server/engine/processors';
import { createRng } from '../server/engine/rng';
import { createDrafters, defaultDrafterSettings } from '../server/engine/speculation';
import { loadModel } from '../server/runtime/load-model';
import { startService } from '../test/server/service-helpers';
import { fmtSpread, machineLine, root, spread, table, updateBenchmarksMd, writeJson } from './report';

const modelDir = path.join(root, 'models', 'specter-tiny');

/** A realistic prompt: the head of a real source file shipped with the repo's dependencies. */
function promptText(nChars: number): string {
  const src = fs.readFileSync(path.join(root, 'node_modules', 'vscode-languageserver', 'lib', 'common', 'server.js'), 'utf8');
  return src.slice(0, nChars);
}

export interface DecodeBenchOptions { reps: number; nNew: number; nPromptChars: number }

export async function benchDecode(o: DecodeBenchOptions): Promise<Record<string, unknown>> {
  const loaded = await loadModel(modelDir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: () => undefined });
  if (!loaded.ok) throw new Error(loaded.error.message);
  const { lm, tokenizer } = loaded.value;
  const promptIds = tokenizer.encode(promptText(o.nPromptChars));
  const noStop = [suppressIds(tokenizer.stopIds)];

  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = path.dirname(modelDir) + path.sep;
  const peer = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(modelDir), { dtype: 'fp32', local_files_only: true, device: 'cpu' });
  const inputIds = new tjs.Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]);
  const attention = new tjs.Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]);
  const peerGenerate = async (nNew: number): Promise<{ tMs: number; ids: number[] }> => {
    const t0 = performance.now();
    const out = (await peer.generate({ input_ids: inputIds, attention_mask: attention, max_new_tokens: nNew, min_new_tokens: nNew, do_sample: false })) as { tolist(): bigint[][] };
    const tMs = performance.now() - t0;
    return { tMs, ids: (out.tolist()[0] ?? []).slice(promptIds.length).map(Number) };
  };
  // speculative = Specter's default greedy path: CopySpec + prompt lookup drafts verified in one
  // pass (lossless: the tokens must equal plain greedy's, checked below).
  const ours = async (nNew: number, speculative = false): Promise<{ tPrefillMs: number; tDecodeMs: number; tTotalMs: number; ids: number[] }> => {
    lm.truncate(0);
    const drafters = speculative ? { drafters: createDrafters(defaultDrafterSettings) } : {};
    const out = await decode(lm, tokenizer, { prompt: promptIds, maxTokens: nNew, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [], processors: noStop, ...drafters });
    if (out.kind !== 'done') throw new Error(`decode ${out.kind}`);
    return { tPrefillMs: out.tPrefillMs, tDecodeMs: out.tDecodeMs, tTotalMs: out.tTotalMs, ids: out.tokens };
  };

  // Warm-up both, and check they agree on the greedy tokens (same model, same algorithm).
  const warmOurs = await ours(o.nNew);
  const warmPeer = await peerGenerate(o.nNew);
  const warmSpec = await ours(o.nNew, true);
  const identical = JSON.stringify(warmOurs.ids) === JSON.stringify(warmPeer.ids);
  const specIdentical = JSON.stringify(warmOurs.ids) === JSON.stringify(warmSpec.ids);

  const oursDecode: number[] = [], oursPrefill: number[] = [], peerDecode: number[] = [], peerPrefill: number[] = [], ratio: number[] = [], prefillRatio: number[] = [];
  const specDecode: number[] = [], specRatio: number[] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    const a = await ours(o.nNew);
    const sp = await ours(o.nNew, true);
    const p1 = await peerGenerate(1);
    const pN = await peerGenerate(o.nNew);
    const oursTps = (1000 * (o.nNew - 1)) / a.tDecodeMs;
    // The peer's decode rate: generating N tokens minus generating 1 (prefill + first token).
    const peerTps = (1000 * (o.nNew - 1)) / Math.max(1e-6, pN.tMs - p1.tMs);
    oursDecode.push(oursTps);
    peerDecode.push(peerTps);
    ratio.push(oursTps / peerTps);
    const specTps = (1000 * (o.nNew - 1)) / sp.tDecodeMs;
    specDecode.push(specTps);
    specRatio.push(specTps / peerTps);
    oursPrefill.push((1000 * promptIds.length) / a.tPrefillMs);
    peerPrefill.push((1000 * promptIds.length) / p1.tMs);
    prefillRatio.push(peerPrefill[rep]! > 0 ? oursPrefill[rep]! / peerPrefill[rep]! : NaN);
  }
  await loaded.value.dispose();
  return {
    promptTokens: promptIds.length,
    newTokens: o.nNew,
    reps: o.reps,
    greedyIdentical: identical,
    speculativeIdentical: specIdentical,
    oursDecodeTps: spread(oursDecode),
    peerDecodeTps: spread(peerDecode),
    decodeRatio: spread(ratio),
    specDecodeTps: spread(specDecode),
    specDecodeRatio: spread(specRatio),
    oursPrefillTps: spread(oursPrefill),
    peerPrefillTps: spread(peerPrefill),
    prefillRatio: spread(prefillRatio),
  };
}

interface LineTask { id: string; language: string; path: string; prefix: string; suffix: string }

/**
 * Completion after one typed character, on held-out mid-line tasks (bench/tasks/line-completion.jsonl):
 * the "previous keystroke" is the task's prefix without its last character; warm = the KV cache
 * holds that keystroke's prompt, cold = empty cache, same request otherwise (real completion
 * service, default settings). CopySpec keeps earlier completions as history, so whichever of the
 * two runs second could copy the first's output: the order alternates between tasks to keep that
 * symmetric.
 */
export async function benchReuse(nTasks: number): Promise<Record<string, unknown>> {
  const { service, host } = await startService();
  const model = await host.acquire();
  if (model === undefined) throw new Error('model not ready');
  const tasks = fs
    .readFileSync(path.join(root, 'bench', 'tasks', 'line-completion.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LineTask)
    .filter((t) => t.prefix.length > 1)
    .slice(0, nTasks);
  const warm: number[] = [], cold: number[] = [], ratio: number[] = [], prefillRatio: number[] = [], promptTokens: number[] = [], reused: number[] = [], generated: number[] = [];
  // Wall time of service.complete: the decode loop plus prompt building, constraints and the parse check.
  const warmWall: number[] = [], coldWall: number[] = [], wallRatio: number[] = [];
  /** service.complete(req) with its wall time. */
  const timed = async (req: Parameters<typeof service.complete>[0]): Promise<{ r: Awaited<ReturnType<typeof service.complete>>; ms: number }> => {
    const t0 = performance.now();
    const r = await service.complete(req);
    return { r, ms: performance.now() - t0 };
  };
  let nSame = 0;
  for (const [i, t] of tasks.entries()) {
    const req = { uri: `bench/${t.path}`, languageId: t.language, prefix: t.prefix, suffix: t.suffix };
    const previous = { ...req, prefix: t.prefix.slice(0, -1) };
    const runCold = async (): ReturnType<typeof timed> => {
      model.lm.truncate(0);
      return timed(req);
    };
    const runWarm = async (): ReturnType<typeof timed> => {
      model.lm.truncate(0);
      await service.complete(previous);
      return timed(req);
    };
    const first = i % 2 === 0 ? await runCold() : undefined;
    const { r: w, ms: tWarmWallMs } = await runWarm();
    const { r: c2, ms: tColdWallMs } = first ?? (await runCold());
    // A suggestion the parse check withholds still ran the model: its statistics count too.
    if (c2.kind === 'cancelled' || w.kind === 'cancelled' || c2.stats === undefined || w.stats === undefined) continue;
    if ((c2.kind === 'ok' ? c2.texts[0] : '') === (w.kind === 'ok' ? w.texts[0] : '')) nSame++;
    cold.push(c2.stats.totalMs);
    warm.push(w.stats.totalMs);
    ratio.push(w.stats.totalMs / c2.stats.totalMs);
    coldWall.push(tColdWallMs);
    warmWall.push(tWarmWallMs);
    wallRatio.push(tWarmWallMs / tColdWallMs);
    prefillRatio.push(w.stats.prefillMs / c2.stats.prefillMs);
    promptTokens.push(w.stats.promptTokens);
    reused.push(w.stats.reusedTokens);
    generated.push(w.stats.generatedTokens);
  }
  await service.shutdown();
  return {
    nTasks: tasks.length,
    nMeasured: ratio.length,
    sameText: nSame,
    promptTokens: spread(promptTokens),
    reusedTokens: spread(reused),
    generatedTokens: spread(generated),
    coldMs: spread(cold),
    warmMs: spread(warm),
    warmOverCold: spread(ratio),
    coldWallMs: spread(coldWall),
    warmWallMs: spread(warmWall),
    wallWarmOverCold: spread(wallRatio),
    prefillWarmOverCold: spread(prefillRatio),
  };
}

export async function runDecodeBenches(reps: number, nReuseTasks = 60): Promise<void> {
  const d = await benchDecode({ reps, nNew: 64, nPromptChars: 1600 });
  const r = await benchReuse(nReuseTasks);
  const file = writeJson('decode', { machine: machineLine(), decode: d, reuse: r });
  const ds = (k: string): ReturnType<typeof spread> => d[k] as ReturnType<typeof spread>;
  const rs = (k: string): ReturnType<typeof spread> => r[k] as ReturnType<typeof spread>;
  const body = [
    '## Engine vs transformers.js, and KV reuse (issue 2)',
    '',
    `Command: \`npm run bench -- decode --reps ${reps}\` · ${machineLine()} · JSON: \`${path.relative(root, file)}\``,
    '',
    `Same ONNX model (models/specter-tiny), CPU provider, greedy, ${d['promptTokens']}-token prompt, ${d['newTokens']} new tokens (end-of-text suppressed), ${reps} interleaved repetitions; median (p10–p90). Greedy tokens identical to transformers.js: **${d['greedyIdentical'] ? 'yes' : 'NO'}**; speculative tokens identical to plain greedy: **${d['speculativeIdentical'] ? 'yes' : 'NO'}**.`,
    '',
    table(['measure', 'Specter', 'transformers.js', 'ratio Specter / peer'], [
      ['decode tokens/s, plain greedy (one token per forward pass)', fmtSpread(ds('oursDecodeTps')), fmtSpread(ds('peerDecodeTps')), `**${fmtSpread(ds('decodeRatio'), 2)}×**`],
      ['decode tokens/s, Specter default: lossless speculative greedy (same tokens)', fmtSpread(ds('specDecodeTps')), fmtSpread(ds('peerDecodeTps')), `**${fmtSpread(ds('specDecodeRatio'), 2)}×** (goal ≥ 1.3×)`],
      ['prefill tokens/s', fmtSpread(ds('oursPrefillTps')), fmtSpread(ds('peerPrefillTps')), `${fmtSpread(ds('prefillRatio'), 2)}×`],
    ]),
    '',
    `Completion after one typed character: ${r['nMeasured']} held-out mid-line tasks (bench/tasks/line-completion.jsonl), real completion service with default settings; the previous keystroke is the prefix without its last character. Warm = the KV cache holds that keystroke's prompt; cold = empty cache. Prompt ${fmtSpread(rs('promptTokens'), 0)} tokens, of which reused when warm ${fmtSpread(rs('reusedTokens'), 0)}; generated ${fmtSpread(rs('generatedTokens'), 0)} tokens; same text warm and cold in ${r['sameText']}/${r['nMeasured']} tasks. Per-task ratios, median (p10–p90):`,
    '',
    table(['measured', 'cold ms', 'warm (reuse) ms', 'prefill warm / cold', 'completion warm / cold'], [
      ['decode loop (stats.totalMs: prefill + decode)', fmtSpread(rs('coldMs')), fmtSpread(rs('warmMs')), fmtSpread(rs('prefillWarmOverCold'), 2), `**${fmtSpread(rs('warmOverCold'), 2)}** (goal ≤ 0.20)`],
      ['whole request (service.complete: + prompt, constraints, parse check)', fmtSpread(rs('coldWallMs')), fmtSpread(rs('warmWallMs')), '', `${fmtSpread(rs('wallWarmOverCold'), 2)}`],
    ]),
  ].join('\n');
  updateBenchmarksMd('decode', body);
  process.stdout.write(`${body}\n`);
}
