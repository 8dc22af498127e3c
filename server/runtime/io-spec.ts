// Reads the decoder-with-past interface from a session's own input/output metadata and checks it
// against config.json. Names: input_ids | inputs_embeds, attention_mask, position_ids,
// past_key_values.{i}.key|value [batch, kvHeads, past, headDim] → logits, present.{i}.key|value.
import type * as ort from 'onnxruntime-node';
import type { ConfigDims } from './model-dir';
import { fail, ok, type Outcome } from './outcome';

export type FirstInput = 'input_ids' | 'inputs_embeds';

export interface IoSpec {
  firstInput: FirstInput;
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Element type of the KV cache tensors (and of inputs_embeds / logits in fp16 exports). */
  kvType: 'float32' | 'float16';
  logitsType: 'float32' | 'float16';
  embedsType: 'float32' | 'float16';
  idsType: 'int64' | 'int32';
  hasAttentionMask: boolean;
  hasPositionIds: boolean;
  /** Optimum merged decoders take a bool [1] that picks the with-past branch. */
  hasUseCacheBranch: boolean;
  /** Some exports take how many trailing positions to return logits for (0 = all). */
  logitsToKeepName: string | undefined;
}

const optionalInputs = new Set(['attention_mask', 'position_ids', 'use_cache_branch', 'num_logits_to_keep', 'logits_to_keep']);
const pastRe = /^past_key_values\.(\d+)\.(key|value)$/;
const interfaceHelp = 'the runtime needs the Optimum decoder-with-past interface (input_ids, attention_mask, position_ids, past_key_values.{i}.key|value → logits, present.{i}.key|value); export with `optimum-cli export onnx --task text-generation-with-past` or pick another model in specter.model';

export function readIoSpec(session: ort.InferenceSession, dims: ConfigDims, fileLabel: string, firstInput: FirstInput): Outcome<IoSpec> {
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const outputs = new Map(session.outputMetadata.map((m) => [m.name, m]));
  const unknown = [...inputs.keys()].filter((n) => n !== firstInput && !optionalInputs.has(n) && !pastRe.test(n));
  if (unknown.length > 0 || !inputs.has(firstInput)) {
    const missing = inputs.has(firstInput) ? '' : ` and lacks ${firstInput}`;
    return fail('io-mismatch', `${fileLabel} has unknown inputs [${unknown.join(', ')}]${missing} (all inputs: ${[...inputs.keys()].join(', ')}) — ${interfaceHelp}.`);
  }
  let nLayers = 0;
  while (inputs.has(`past_key_values.${nLayers}.key`)) nLayers++;
  if (nLayers === 0) {
    return fail('io-mismatch', `${fileLabel} has no past_key_values.{i}.key|value inputs: it was exported without a KV cache — ${interfaceHelp}.`);
  }
  const pastNames = [...inputs.keys()].filter((n) => pastRe.test(n));
  if (pastNames.length !== 2 * nLayers) {
    return fail('io-mismatch', `${fileLabel} has ${pastNames.length} past_key_values inputs, expected key and value for layers 0…${nLayers - 1} (${2 * nLayers}) — ${interfaceHelp}.`);
  }
  if (nLayers !== dims.layers) {
    return fail('shape-mismatch', `${fileLabel} has KV-cache inputs for ${nLayers} layers but config.json says num_hidden_layers ${dims.layers} — the ONNX file and config.json come from different models; re-download the model.`);
  }
  const needOut = ['logits'];
  for (let i = 0; i < nLayers; i++) needOut.push(`present.${i}.key`, `present.${i}.value`);
  const missingOut = needOut.filter((n) => !outputs.has(n));
  if (missingOut.length > 0) {
    const shown = missingOut.length > 4 ? `${missingOut.slice(0, 4).join(', ')}, … (${missingOut.length})` : missingOut.join(', ');
    return fail('io-mismatch', `${fileLabel} lacks outputs ${shown} (outputs: ${[...outputs.keys()].slice(0, 6).join(', ')}${outputs.size > 6 ? ', …' : ''}) — ${interfaceHelp}.`);
  }

  const pastMeta = inputs.get('past_key_values.0.key');
  let kvHeads = dims.kvHeads;
  let headDim = dims.headDim;
  let kvType: IoSpec['kvType'] = 'float32';
  if (pastMeta?.isTensor === true) {
    const type = floatType(pastMeta.type);
    if (type === undefined) return fail('io-mismatch', `${fileLabel}: KV cache type ${pastMeta.type} is not supported (float32 or float16) — pick another variant in specter.modelVariant.`);
    kvType = type;
    // [batch, kvHeads, past, headDim]; symbolic dims come back as strings.
    const [, h, , d] = pastMeta.shape;
    if (typeof h === 'number') kvHeads = h;
    if (typeof d === 'number') headDim = d;
    if (pastMeta.shape.length !== 4) {
      return fail('io-mismatch', `${fileLabel}: past_key_values.0.key has rank ${pastMeta.shape.length}, expected 4 [batch, kvHeads, past, headDim] — ${interfaceHelp}.`);
    }
  }
  if (kvHeads !== dims.kvHeads || headDim !== dims.headDim) {
    return fail('shape-mismatch', `${fileLabel} has a KV cache of ${kvHeads} heads × ${headDim} but config.json implies ${dims.kvHeads} KV heads × ${dims.headDim} (num_key_value_heads, head_dim) — the ONNX file and config.json come from different models; re-download the model.`);
  }
  const firstMeta = inputs.get(firstInput);
  const logitsMeta = outputs.get('logits');
  const idsType = firstMeta?.isTensor === true && firstMeta.type === 'int32' ? 'int32' : 'int64';
  const logitsType = logitsMeta?.isTensor === true ? floatType(logitsMeta.type) : 'float32';
  if (logitsType === undefined) return fail('io-mismatch', `${fileLabel}: logits type is not float32 or float16 — pick another variant in specter.modelVariant.`);
  const embedsType = firstMeta?.isTensor === true ? floatType(firstMeta.type) ?? 'float32' : 'float32';
  const keep = ['num_logits_to_keep', 'logits_to_keep'].find((n) => inputs.has(n));
  return ok({
    firstInput,
    layers: nLayers,
    kvHeads,
    headDim,
    kvType,
    logitsType,
    embedsType,
    idsType,
    hasAttentionMask: inputs.has('attention_mask'),
    hasPositionIds: inputs.has('position_ids'),
    hasUseCacheBranch: inputs.has('use_cache_branch'),
    logitsToKeepName: keep,
  });
}

function floatType(t: string): 'float32' | 'float16' | undefined {
  return t === 'float32' || t === 'float16' ? t : undefined;
}
