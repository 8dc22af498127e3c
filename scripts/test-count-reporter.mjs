// A node:test reporter that records every finished test (suites not counted) as one JSON line,
// {"file", "result": "pass"|"fail"|"skip"|"todo"}, appended synchronously to the file named by
// SPECTER_TEST_COUNTS (with --test-force-exit the runner may exit before a reporter's stream is
// flushed, so nothing is buffered). scripts/test.mjs reads it to catch test files that stopped
// early without a failure, and skipped or todo tests. Prints nothing.
import * as fs from 'node:fs';

export default async function* countTests(source) {
  const out = process.env['SPECTER_TEST_COUNTS'];
  for await (const event of source) {
    if (out === undefined || (event.type !== 'test:pass' && event.type !== 'test:fail')) continue;
    const data = event.data;
    if (data.details?.type === 'suite') continue;
    const result =
      data.skip !== undefined && data.skip !== false ? 'skip'
      : data.todo !== undefined && data.todo !== false ? 'todo'
      : event.type === 'test:pass' ? 'pass' : 'fail';
    fs.appendFileSync(out, `${JSON.stringify({ file: data.file ?? '(no file)', result })}\n`);
  }
  yield '';
}
