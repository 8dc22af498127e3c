// Issue 2 benchmark, one run, interleaved repetitions on the same ONNX model:
//  - greedy decode tokens/s and prefill tokens/s: Specter's engine vs transformers.js `generate`;
//  - latency of a completion after one typed character with KV reuse vs cold.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from '../server/engine/decode';
import { suppressIds } from '../server/engine/processors';
import { createRng } from '../server/engine/rng';
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
  const ours = async (nNew: number): Promise<{ tPrefillMs: number; tDecodeMs: number; tTotalMs: number; ids: number[] }> => {
    lm.truncate(0);
    const out = await decode(lm, tokenizer, { prompt: promptIds, maxTokens: nNew, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [], processors: noStop });
    if (out.kind !== 'done') throw new Error(`decode ${out.kind}`);
    return { tPrefillMs: out.tPrefillMs, tDecodeMs: out.tDecodeMs, tTotalMs: out.tTotalMs, ids: out.tokens };
  };

  // Warm-up both, and check they agree on the greedy tokens (same model, same algorithm).
  const warmOurs = await ours(o.nNew);
  const warmPeer = await peerGenerate(o.nNew);
  const identical = JSON.stringify(warmOurs.ids) === JSON.stringify(warmPeer.ids);

  const oursDecode: number[] = [], oursPrefill: number[] = [], peerDecode: number[] = [], peerPrefill: number[] = [], ratio: number[] = [], prefillRatio: number[] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    const a = await ours(o.nNew);
    const p1 = await peerGenerate(1);
    const pN = await peerGenerate(o.nNew);
    const oursTps = (1000 * (o.nNew - 1)) / a.tDecodeMs;
    // The peer's decode rate: generating N tokens minus generating 1 (prefill + first token).
    const peerTps = (1000 * (o.nNew - 1)) / Math.max(1e-6, pN.tMs - p1.tMs);
    oursDecode.push(oursTps);
    peerDecode.push(peerTps);
    ratio.push(oursTps / peerTps);
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
    oursDecodeTps: spread(oursDecode),
    peerDecodeTps: spread(peerDecode),
    decodeRatio: spread(ratio),
    oursPrefillTps: spread(oursPrefill),
    peerPrefillTps: spread(peerPrefill),
    prefillRatio: spread(prefillRatio),
  };
}

export async function benchReuse(reps: number): Promise<Record<string, unknown>> {
  const { service, host } = await startService();
  const model = await host.acquire();
  if (model === undefined) throw new Error('model not ready');
  const text = promptText(3000);
  const cut = text.lastIndexOf('\n', 2500) + 1;
  const prefix = text.slice(0, cut + 12);
  const suffix = text.slice(cut + 12);
  const warm: number[] = [], cold: number[] = [], ratio: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    // Cold: empty cache. Warm: the previous keystroke's prompt is cached.
    const typedPrefix = prefix + 'x'.repeat(rep % 3);
    model.lm.truncate(0);
    const c = await service.complete({ uri: 'bench/server.js', languageId: 'javascript', prefix: typedPrefix + 'y', suffix });
    model.lm.truncate(0);
    await service.complete({ uri: 'bench/server.js', languageId: 'javascript', prefix: typedPrefix, suffix });
    const w = await service.complete({ uri: 'bench/server.js', languageId: 'javascript', prefix: typedPrefix + 'y', suffix });
    if (c.kind !== 'ok' || w.kind !== 'ok') continue;
    cold.push(c.stats.totalMs);
    warm.push(w.stats.totalMs);
    ratio.push(w.stats.totalMs / c.stats.totalMs);
  }
  await service.shutdown();
  return { reps, nMeasured: ratio.length, coldMs: spread(cold), warmMs: spread(warm), warmOverCold: spread(ratio) };
}

export async function runDecodeBenches(reps: number): Promise<void> {
  const d = await benchDecode({ reps, nNew: 64, nPromptChars: 1600 });
  const r = await benchReuse(reps);
  const file = writeJson('decode', { machine: machineLine(), decode: d, reuse: r });
  const ds = (k: string): ReturnType<typeof spread> => d[k] as ReturnType<typeof spread>;
  const rs = (k: string): ReturnType<typeof spread> => r[k] as ReturnType<typeof spread>;
  const body = [
    '## Engine vs transformers.js, and KV reuse (issue 2)',
    '',
    `Command: \`npm run bench -- decode --reps ${reps}\` · ${machineLine()} · JSON: \`${path.relative(root, file)}\``,
    '',
    `Same ONNX model (models/specter-tiny), CPU provider, greedy, ${d['promptTokens']}-token prompt, ${d['newTokens']} new tokens, ${reps} interleaved repetitions; median (p10–p90). Greedy tokens identical between the two: **${d['greedyIdentical'] ? 'yes' : 'NO'}**.`,
    '',
    table(['measure', 'Specter', 'transformers.js', 'ratio Specter / peer'], [
      ['decode tokens/s', fmtSpread(ds('oursDecodeTps')), fmtSpread(ds('peerDecodeTps')), `**${fmtSpread(ds('decodeRatio'), 2)}×** (goal ≥ 1.3×)`],
      ['prefill tokens/s', fmtSpread(ds('oursPrefillTps')), fmtSpread(ds('peerPrefillTps')), `${fmtSpread(ds('prefillRatio'), 2)}×`],
    ]),
    '',
    'Completion after one typed character (real completion service, ~600-token prompt), warm = KV cache holds the previous keystroke\'s prompt:',
    '',
    table(['cold ms', 'warm (reuse) ms', 'warm / cold'], [[fmtSpread(rs('coldMs')), fmtSpread(rs('warmMs')), `**${fmtSpread(rs('warmOverCold'), 2)}** (goal ≤ 0.20)`]]),
  ].join('\n');
  updateBenchmarksMd('decode', body);
  process.stdout.write(`${body}\n`);
}
