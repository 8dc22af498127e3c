// Runs the unit and server tests (node:test, one file at a time) and then checks what ran against
// test/expected-counts.json: every file must run exactly the recorded number of tests, none skipped
// or todo. The test runner can lose the tail of a file without reporting a failure (13 tests of one
// file in session 15; 2–11 of engine-stopping.test.ts in one run out of two in session 17): with
// --test-force-exit a file's child process exits before its pipe to the runner is drained
// (nodejs/node#64833). scripts/test-stdout-blocking.mjs, preloaded into every child, makes that
// pipe blocking; this check still turns any loss into a failure.
//   node scripts/test.mjs                  run and check
//   node scripts/test.mjs --update-counts  run, then record the counts (after adding or removing tests)
//   node scripts/test.mjs FILE…            run only these files (checked against their own counts)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const expectedFile = path.join(root, 'test', 'expected-counts.json');
const countsFile = path.join(root, 'test-artifacts', 'test-counts.jsonl');
const args = process.argv.slice(2);
const update = args.includes('--update-counts');
const picked = args.filter((a) => a !== '--update-counts');

const testFiles = (dir) =>
  fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `${dir}/${f}`);
const files = picked.length > 0 ? picked.map((f) => path.relative(root, path.resolve(f))) : [...testFiles('test/unit'), ...testFiles('test/server')];
if (update && picked.length > 0) {
  console.error('--update-counts records the whole suite: run it without file arguments.');
  process.exit(2);
}

fs.mkdirSync(path.dirname(countsFile), { recursive: true });
fs.rmSync(countsFile, { force: true });
const run = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--import', pathToFileURL(path.join(root, 'scripts', 'test-stdout-blocking.mjs')).href,
    '--test', '--test-concurrency=1', '--test-force-exit',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/test-count-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, SPECTER_TEST_COUNTS: countsFile } },
);
if (run.status !== 0) process.exit(run.status ?? 1);

if (!fs.existsSync(countsFile)) {
  console.error(`test counts: the reporter wrote no ${path.relative(root, countsFile)}; the run cannot be checked.`);
  process.exit(1);
}
const ran = {};
for (const line of fs.readFileSync(countsFile, 'utf8').split('\n')) {
  if (line === '') continue;
  const { file, result } = JSON.parse(line);
  const tally = (ran[path.relative(root, file)] ??= { pass: 0, fail: 0, skip: 0, todo: 0 });
  tally[result] += 1;
}

const problems = [];
for (const [file, t] of Object.entries(ran)) {
  if (t.skip > 0 || t.todo > 0) problems.push(`${file}: ${t.skip} skipped and ${t.todo} todo tests (every test must run and assert)`);
}
if (update) {
  if (problems.length > 0) {
    console.error(`test counts not recorded:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  const counts = Object.fromEntries(files.map((f) => [f, (ran[f]?.pass ?? 0) + (ran[f]?.fail ?? 0)]));
  fs.writeFileSync(expectedFile, `${JSON.stringify(counts, null, 2)}\n`);
  console.log(`test counts recorded in ${path.relative(root, expectedFile)}: ${Object.values(counts).reduce((a, b) => a + b, 0)} tests in ${files.length} files`);
  process.exit(0);
}

const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
let total = 0;
for (const file of files) {
  const n = (ran[file]?.pass ?? 0) + (ran[file]?.fail ?? 0);
  total += n;
  const want = expected[file];
  if (want === undefined) problems.push(`${file}: ran ${n} tests and has no recorded count`);
  else if (n !== want) problems.push(`${file}: ran ${n} tests, ${want} recorded${n < want ? ' (the file stopped early, or tests were removed)' : ''}`);
}
if (picked.length === 0) {
  for (const file of Object.keys(expected)) if (!files.includes(file)) problems.push(`${file}: recorded but no longer exists`);
}
if (problems.length > 0) {
  console.error(`\ntest counts do not match ${path.relative(root, expectedFile)}:\n  ${problems.join('\n  ')}\nIf tests were added or removed on purpose, record the new counts: npm test -- --update-counts`);
  process.exit(1);
}
console.log(`test counts: ${total} tests in ${files.length} files, as recorded`);
