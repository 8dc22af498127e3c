// The model directory's request for the context cache (engine/context-cache.ts): config.json
// "specter": {"context_cache": {"min_n": 2, "max_n": 8, "weight": 0.7, "growth": 3}}. Absent: the
// model does not ask for it. Malformed: a warning that says what is wrong, and no cache.
import type { ContextCacheOptions } from '../engine/context-cache';
import type { Json } from './model-dir';

export function readContextCacheMeta(config: Json): { options?: ContextCacheOptions; warning?: string } {
  const specter = config['specter'];
  const raw = typeof specter === 'object' && specter !== null ? (specter as Json)['context_cache'] : undefined;
  if (raw === undefined) return {};
  const bad = (why: string): { warning: string } => ({ warning: `config.json "specter.context_cache" ${why}; the context cache is off unless specter.completion.contextCache is "on"` });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('is not an object');
  const m = raw as Json;
  const field = (key: string, min: number, max: number, integer: boolean): number | string => {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) return `${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`;
    return v;
  };
  const minN = field('min_n', 1, 64, true);
  const maxN = field('max_n', 1, 64, true);
  const weight = field('weight', 0, 0.99, false);
  const growth = field('growth', 1, 16, false);
  for (const v of [minN, maxN, weight, growth]) if (typeof v === 'string') return bad(`has ${v}`);
  if ((maxN as number) < (minN as number)) return bad(`has max_n ${maxN} below min_n ${minN}`);
  return { options: { minN: minN as number, maxN: maxN as number, weight: weight as number, growth: growth as number } };
}
