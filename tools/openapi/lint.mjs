// Runs the pinned Redocly CLI on an OpenAPI document with redocly.yaml and fails unless it finds
// no problem at all: 0 errors, 0 warnings and 0 ignored (no lint-ignore file may hide one).
// Usage: node tools/openapi/lint.mjs <openapi.json>
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const document = process.argv[2];
if (!document) {
  console.error('usage: node lint.mjs <openapi.json>');
  process.exit(2);
}
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`@redocly/cli needs node >= 20.19; this is ${process.versions.node}`);
  process.exit(2);
}
const redocly = join(here, 'node_modules', '.bin', 'redocly');
const run = spawnSync(
  redocly,
  ['lint', '--config', join(here, 'redocly.yaml'), '--format=json', '--max-problems=100000', resolve(document)],
  { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
);
if (run.error) {
  console.error(`cannot run ${redocly} (did npm ci run in tools/openapi?): ${run.error.message}`);
  process.exit(2);
}
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`redocly did not print a JSON report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  process.exit(2);
}
const { errors = 0, warnings = 0, ignored = 0 } = report.totals ?? {};
for (const problem of report.problems ?? []) {
  const where = problem.location?.[0];
  const line = where?.start?.line ? `:${where.start.line}` : '';
  console.log(`${problem.severity.padEnd(7)} ${problem.ruleId}  ${where?.pointer ?? ''}${line}\n        ${problem.message}`);
}
console.log(`redocly lint: ${errors} errors, ${warnings} warnings, ${ignored} ignored`);
process.exit(errors === 0 && warnings === 0 && ignored === 0 && run.status === 0 ? 0 : 1);
