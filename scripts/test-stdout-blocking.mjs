// Preloaded into the test runner and every test file's child process (scripts/test.mjs). With
// --test-force-exit each child streams its results to the runner over a pipe and exits as soon as
// its tests are done; pipe writes are asynchronous on Linux, so the exit could drop the last
// results of a file without any failure (nodejs/node#64833: seen here as 81–90 of
// engine-stopping.test.ts's 92 tests). A blocking stdout makes every write complete before the
// exit. A TTY or file stdout is blocking already; only a pipe's handle is changed.
const handle = process.stdout._handle;
if (handle !== undefined && handle !== null && typeof handle.setBlocking === 'function') handle.setBlocking(true);
