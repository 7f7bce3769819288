// Checks recorded HTTP exchanges against an OpenAPI 3.1 document; exits 1 on any violation.
// Usage: node tools/openapi/conformance.mjs [--json <report.json>] <openapi.json> <log.jsonl>...
// The logs are written by the integration tests when IKIGAI_CONFORMANCE_LOG names a file
// (tests/support/conformance_log.cpp). What is enforced: README.md next to this file.
import { readFileSync, writeFileSync } from 'node:fs';
import { RULES, checkAll } from './lib.mjs';

function usage() {
  console.error('usage: node conformance.mjs [--json <report.json>] <openapi.json> <log.jsonl>...');
  process.exit(2);
}

const args = process.argv.slice(2);
let jsonOut = null;
if (args[0] === '--json') {
  jsonOut = args[1];
  args.splice(0, 2);
}
if (args.length < 2 || !jsonOut && args.some((a) => a.startsWith('--'))) usage();
const [documentPath, ...logPaths] = args;

const document = JSON.parse(readFileSync(documentPath, 'utf8'));
const exchanges = [];
for (const logPath of logPaths) {
  const lines = readFileSync(logPath, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      exchanges.push({ exchange: JSON.parse(line), source: `${logPath}:${index + 1}` });
    } catch (error) {
      console.error(`${logPath}:${index + 1}: not a JSON line (${error.message})`);
      process.exit(2);
    }
  });
}
if (exchanges.length === 0) {
  console.error(`no exchanges in ${logPaths.join(', ')}: was the suite run with IKIGAI_CONFORMANCE_LOG set?`);
  process.exit(2);
}

const report = checkAll(document, exchanges);
const out = [];
out.push(`OpenAPI conformance: ${report.exchanges} exchanges from ${logPaths.join(', ')} against ${documentPath}`);
out.push('Fixed rules:');
for (const rule of Object.values(RULES)) out.push(`  - ${rule}`);
out.push('');
if (report.violationCount === 0) {
  out.push('No violations.');
} else {
  out.push(`VIOLATIONS: ${report.violationCount} in ${report.groups.length} (method, template, status) groups`);
  for (const [kind, count] of Object.entries(report.byKind).sort((a, b) => b[1] - a[1])) out.push(`  ${String(count).padStart(6)}  ${kind}`);
  out.push('');
  for (const group of report.groups) {
    out.push(`${group.method} ${group.template} -> ${group.status}  (${group.count})`);
    for (const k of group.kinds) {
      out.push(`  [${k.kind}] x${k.count} ${k.detail}`);
      out.push(`      e.g. ${k.example.source}  ${k.example.path}  ${k.example.status} ${k.example.contentType}`);
      out.push(`      ${k.example.body.replace(/\n/g, '\\n')}`);
    }
  }
}
out.push('');
out.push('Coverage (informational):');
out.push(`  operations never exercised: ${report.coverage.neverExercised.length}`);
for (const op of report.coverage.neverExercised) out.push(`    ${op}`);
out.push(`  documented statuses never observed (per exercised operation): ${report.coverage.statusesNeverSeen.length} operations`);
for (const { operation, statuses } of report.coverage.statusesNeverSeen) out.push(`    ${operation}: ${statuses.join(', ')}`);
if (report.skippedBodies) out.push(`  bodies over 1 MiB not recorded (status and headers checked only): ${report.skippedBodies}`);
out.push('');
out.push('Advisory (informational): members present in every observed 2xx instance but not `required`:');
if (report.advisory.length === 0) out.push('  none');
for (const a of report.advisory) {
  out.push(`  ${a.schema} (${a.seen} instances): ${a.members.join(', ')}`);
  out.push(`      seen in ${a.usedAt.slice(0, 4).join('; ')}${a.usedAt.length > 4 ? `; +${a.usedAt.length - 4} more` : ''}`);
}
console.log(out.join('\n'));
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(report, null, 1)}\n`);
process.exit(report.violationCount === 0 ? 0 : 1);
