// lint.mjs passes a clean document and fails one with problems, so openapi.lint cannot go green by
// checking nothing. (It fails on warnings and ignored problems as well: see its last line.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const lint = join(here, '..', 'lint.mjs');
const run = (document) => spawnSync(process.execPath, [lint, document], { encoding: 'utf8' });

test('a clean document lints with 0 errors and 0 warnings', () => {
  const result = run(join(here, 'fixtures', 'lint-clean.json'));
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /0 errors, 0 warnings, 0 ignored/);
});

test('a document with problems fails, naming the rule', () => {
  const document = JSON.parse(readFileSync(join(here, 'fixtures', 'lint-clean.json'), 'utf8'));
  delete document.paths['/items'].get.tags;  // our own rule: every operation is tagged
  delete document.paths['/items'].get.responses['400'];  // operation-4xx-response
  const dir = mkdtempSync(join(tmpdir(), 'lint-test-'));
  const path = join(dir, 'openapi.json');
  writeFileSync(path, JSON.stringify(document));
  const result = run(path);
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /rule\/operation-has-tags/);
  assert.match(result.stdout, /operation-4xx-response/);
});
