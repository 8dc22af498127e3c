#!/usr/bin/env node
// ONNX (onnxruntime-node) vs PyTorch parity for models/specter-tiny: runs the cases written by
// verify_onnx.py through onnx/model.onnx and onnx/model_embeds.onnx; fails if max |diff| > 1e-3.
// Usage: node tools/model/verify_onnx.js [modelDir] [casesJson]
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node'));
const modelDir = process.argv[2] || path.join(__dirname, '..', '..', 'models', 'specter-tiny');
const cases = JSON.parse(fs.readFileSync(process.argv[3] || path.join(__dirname, 'work', 'onnx_cases.json'), 'utf8'));
const i64 = (a, shape) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), shape);
const f32 = (a, shape) => new ort.Tensor('float32', Float32Array.from(a), shape);
(async () => {
  const sessions = {};
  let worst = 0;
  for (const c of cases) {
    sessions[c.graph] ??= await ort.InferenceSession.create(path.join(modelDir, 'onnx', c.graph));
    const s = sessions[c.graph];
    const feeds = {
      [c.first_name]: c.first_name === 'input_ids' ? i64(c.first, c.first_shape) : f32(c.first, c.first_shape),
      attention_mask: i64(c.attention_mask, c.am_shape),
      position_ids: i64(c.position_ids, c.pos_shape),
    };
    c.past.forEach(([k, v], i) => {
      feeds[`past_key_values.${i}.key`] = f32(k, c.past_shape);
      feeds[`past_key_values.${i}.value`] = f32(v, c.past_shape);
    });
    const out = await s.run(feeds);
    const L = c.past.length;
    const logits = out.logits.data;
    let d = 0;
    for (let j = 0; j < logits.length; j++) d = Math.max(d, Math.abs(logits[j] - c.logits[j]));
    const pres = out[`present.${L - 1}.value`];
    let dp = 0;
    for (let j = 0; j < pres.data.length; j++) dp = Math.max(dp, Math.abs(pres.data[j] - c.present_last[j]));
    const shapeOk = JSON.stringify(out.logits.dims) === JSON.stringify(c.logits_shape) &&
      JSON.stringify(pres.dims) === JSON.stringify(c.present_shape);
    console.log(`${c.name.padEnd(22)} logits ${JSON.stringify(out.logits.dims)} max|diff|=${d.toExponential(2)} present ${JSON.stringify(pres.dims)} max|diff|=${dp.toExponential(2)}${shapeOk ? '' : ' SHAPE MISMATCH'}`);
    worst = Math.max(worst, d, dp, shapeOk ? 0 : Infinity);
  }
  for (const [name, s] of Object.entries(sessions)) {
    console.log(`${name}: inputs=${s.inputNames.join(',')} outputs=${s.outputNames.join(',')}`);
  }
  console.log(worst <= 1e-3 ? `PASS (worst ${worst.toExponential(2)})` : `FAIL (worst ${worst})`);
  process.exit(worst <= 1e-3 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
