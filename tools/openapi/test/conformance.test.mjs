// The checker's own tests: each kind of violation is detected on a fixture document, and a clean
// log passes, so that `ctest -L conformance` cannot go green by checking nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkAll, checkExchange, matchPath, prepare } from '../lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const documentPath = join(here, 'fixtures', 'openapi.json');
const document = JSON.parse(readFileSync(documentPath, 'utf8'));
const prepared = prepare(document);

const ID = '0193a8e0-0000-7000-8000-000000000001';
const json = (value) => JSON.stringify(value);
const item = (extra = {}) => ({ id: ID, name: 'one', done: false, note: null, ...extra });
const problem = (status, extra = {}) => ({ title: 't', status, code: 'c', ...extra });

function exchange(method, path, status, { type, body = '', headers = {} } = {}) {
  const all = { ...headers };
  if (type) all['content-type'] = [type];
  return { method, path, status, headers: all, body, body_size: Buffer.byteLength(body) };
}

const ok = {
  list: exchange('GET', '/items?limit=2', 200, { type: 'application/json', body: json({ items: [item(), item({ note: 'x' })] }), headers: { 'x-total': ['2'] } }),
  one: exchange('GET', `/items/${ID}`, 200, { type: 'application/json; charset=utf-8', body: json(item()) }),
  count: exchange('GET', '/items/count', 200, { type: 'text/plain; version=0.0.4', body: '42' }),
  deleted: exchange('DELETE', `/items/${ID}`, 204),
  missing: exchange('GET', `/items/${ID}`, 404, { type: 'application/problem+json', body: json(problem(404)) }),
  unknown: exchange('GET', '/nothing/here', 404, { type: 'application/problem+json', body: json(problem(404)) }),
  wrongMethod: exchange('PUT', '/items', 405, { type: 'application/problem+json', body: json(problem(405)), headers: { allow: ['GET, HEAD, POST, OPTIONS'] } }),
  preflight: exchange('OPTIONS', '/items', 204),
  head: exchange('HEAD', '/items', 200, { type: 'application/json', headers: { 'x-total': ['0'] } }),
  locked: exchange('POST', '/items', 423, { type: 'application/problem+json', body: json(problem(423, { until: '2026-12-06T10:00:00Z' })) }),
};

function kinds(ex) {
  return checkExchange(prepared, ex).violations.map((v) => v.kind);
}

function violations(ex) {
  return checkExchange(prepared, ex).violations;
}

test('a clean log has no violations', () => {
  for (const [name, ex] of Object.entries(ok)) assert.deepEqual(violations(ex), [], name);
  const report = checkAll(document, Object.values(ok).map((exchange, i) => ({ exchange, source: `ok:${i}` })));
  assert.equal(report.violationCount, 0);
});

test('a literal segment wins over a {param} segment', () => {
  assert.equal(matchPath(prepared, '/items/count').template, '/items/count');
  assert.equal(matchPath(prepared, '/items/other').template, '/items/{id}');
  assert.equal(matchPath(prepared, '/items').template, '/items');
});

test('an empty segment does not match a {param}', () => {
  assert.equal(matchPath(prepared, '/items/'), null);
});

test('an undocumented status is a violation', () => {
  assert.deepEqual(kinds(exchange('GET', '/items', 500, { type: 'application/problem+json', body: json(problem(500)) })), ['undocumented status']);
});

test('an undocumented member is a violation, at the top and nested in array items', () => {
  assert.deepEqual(violations(exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: json(item({ colour: 'red' })) })),
    [{ kind: 'undocumented member', detail: '/colour' }]);
  const nested = exchange('GET', '/items', 200, { type: 'application/json', body: json({ items: [item(), item({ colour: 1 })] }), headers: { 'x-total': ['2'] } });
  assert.deepEqual(violations(nested), [{ kind: 'undocumented member', detail: '/items/1/colour' }]);
  const top = exchange('GET', '/items', 200, { type: 'application/json', body: json({ items: [], next: null }), headers: { 'x-total': ['0'] } });
  assert.deepEqual(violations(top), [{ kind: 'undocumented member', detail: '/next' }]);
});

test('an undocumented member of an allOf composition is a violation, its branches\' members are not', () => {
  assert.deepEqual(violations(ok.locked), []);
  const extra = exchange('POST', '/items', 423, { type: 'application/problem+json', body: json(problem(423, { until: '2026-12-06T10:00:00Z', why: 'x' })) });
  assert.deepEqual(violations(extra), [{ kind: 'undocumented member', detail: '/why' }]);
});

test('the 404 body of an unknown path must be a Problem without undocumented members', () => {
  const extra = exchange('GET', '/nothing', 404, { type: 'application/problem+json', body: json(problem(404, { hint: 'x' })) });
  assert.deepEqual(violations(extra), [{ kind: 'undocumented member', detail: '/hint' }]);
});

test('a type violation is detected', () => {
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: json(item({ done: 'yes' })) })), ['type']);
});

test('a format violation is detected', () => {
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: json(item({ id: 'not-a-uuid' })) })), ['format']);
});

test('a missing required member is detected', () => {
  const { name, ...rest } = item();
  assert.deepEqual(violations(exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: json(rest) })),
    [{ kind: 'missing required member', detail: '/name' }]);
});

test('a wrong or missing content type is detected', () => {
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 200, { type: 'text/html', body: json(item()) })), ['wrong content type']);
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 200, { body: json(item()) })), ['wrong content type']);
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 404, { type: 'application/json', body: json(problem(404)) })), ['wrong content type']);
});

test('a text/plain body is validated against its string schema', () => {
  assert.deepEqual(kinds(exchange('GET', '/items/count', 200, { type: 'text/plain', body: 'many' })), ['schema (pattern)']);
});

test('an event stream is checked by status, headers and content type, its body not being recorded', () => {
  const doc = structuredClone(document);
  doc.paths['/items/stream'] = {
    get: {
      responses: {
        200: {
          description: 'events',
          headers: { 'Cache-Control': { required: true, schema: { const: 'no-store' } } },
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
      },
    },
  };
  const streamPrepared = prepare(doc);
  const stream = (headers) => ({ method: 'GET', path: '/items/stream', status: 200, headers, body_size: 0, body_skipped: 'event_stream' });
  assert.deepEqual(checkExchange(streamPrepared, stream({ 'content-type': ['text/event-stream'], 'cache-control': ['no-store'] })).violations, []);
  assert.deepEqual(checkExchange(streamPrepared, stream({ 'content-type': ['text/event-stream'], 'cache-control': ['max-age=5'] })).violations.map((v) => v.kind), ['header value']);
  assert.deepEqual(checkExchange(streamPrepared, stream({ 'content-type': ['application/json'], 'cache-control': ['no-store'] })).violations.map((v) => v.kind), ['wrong content type']);
});

test('invalid JSON is detected', () => {
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: '{"id":' })), ['invalid JSON']);
});

test('a body where none is documented, and no body where one is, are detected', () => {
  assert.deepEqual(kinds(exchange('DELETE', `/items/${ID}`, 204, { type: 'application/json', body: '{}' })), ['body where none is documented']);
  assert.deepEqual(kinds(exchange('GET', `/items/${ID}`, 200, { type: 'application/json' })), ['empty body where content is documented']);
});

test('a missing required response header, and a header value off its schema, are detected', () => {
  assert.deepEqual(kinds(exchange('GET', '/items', 200, { type: 'application/json', body: json({ items: [] }) })), ['missing required header']);
  assert.deepEqual(kinds(exchange('GET', '/items', 200, { type: 'application/json', body: json({ items: [] }), headers: { 'x-total': ['lots'] } })), ['header value']);
});

test('an unknown path answered anything but a 404 problem is a violation', () => {
  assert.deepEqual(kinds(exchange('GET', '/nothing', 200, { type: 'application/json', body: '{}' })), ['unknown path not 404']);
  assert.deepEqual(kinds(exchange('GET', '/nothing', 404, { type: 'text/plain', body: 'no' })), ['unknown path not 404']);
});

test('the 405 rule: status, Allow header, and 405 documented on the path', () => {
  assert.deepEqual(kinds(exchange('PUT', '/items', 404, { type: 'application/problem+json', body: json(problem(404)) })), ['405 rule']);
  assert.deepEqual(kinds(exchange('PUT', '/items', 405, { type: 'application/problem+json', body: json(problem(405)) })), ['405 rule', 'missing required header']);
  assert.deepEqual(kinds(exchange('PUT', '/items', 405, { type: 'application/problem+json', body: json(problem(405)), headers: { allow: ['GET'] } })), ['405 rule']);
  assert.deepEqual(kinds(exchange('PUT', `/items/${ID}`, 405, { type: 'application/problem+json', body: json(problem(405)), headers: { allow: ['GET, DELETE'] } })), ['405 undocumented']);
  assert.deepEqual(kinds(exchange('PUT', '/items', 405, { type: 'application/problem+json', body: json(problem(405, { extra: 1 })), headers: { allow: ['GET, POST'] } })), ['undocumented member']);
});

test('the OPTIONS rule', () => {
  assert.deepEqual(kinds(exchange('OPTIONS', '/items', 200, { type: 'text/plain', body: 'hello' })), ['options rule']);
  assert.deepEqual(kinds(exchange('OPTIONS', '/items', 403, { type: 'application/problem+json', body: json(problem(403)) })), ['options rule']);
});

test('HEAD is checked as GET', () => {
  assert.deepEqual(kinds(exchange('HEAD', '/items', 200, { type: 'application/json' })), ['missing required header']);
  assert.deepEqual(kinds(exchange('HEAD', '/items', 418)), ['undocumented status']);
});

test('violations are grouped by method, template and status, with counts and an example', () => {
  const bad = exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: json(item({ colour: 'red' })) });
  const report = checkAll(document, [bad, bad, ok.list].map((exchange, i) => ({ exchange, source: `log:${i + 1}` })));
  assert.equal(report.violationCount, 2);
  assert.equal(report.groups.length, 1);
  assert.equal(report.groups[0].template, '/items/{id}');
  assert.equal(report.groups[0].kinds[0].count, 2);
  assert.equal(report.groups[0].kinds[0].example.source, 'log:1');
  assert.deepEqual(report.byKind, { 'undocumented member': 2 });
});

test('coverage lists operations and statuses never exercised', () => {
  const report = checkAll(document, [{ exchange: ok.list, source: 'x' }]);
  assert.ok(report.coverage.neverExercised.includes('DELETE /items/{id}'));
  assert.deepEqual(report.coverage.statusesNeverSeen.find((s) => s.operation === 'GET /items').statuses, ['401', '405']);
});

test('a 405 counts as exercising the 405 of every operation of its path', () => {
  const report = checkAll(document, [{ exchange: ok.list, source: 'x' }, { exchange: ok.wrongMethod, source: 'y' }]);
  assert.deepEqual(report.coverage.statusesNeverSeen.find((s) => s.operation === 'GET /items').statuses, ['401']);
  // POST /items itself was never sent: still never exercised.
  assert.ok(report.coverage.neverExercised.includes('POST /items'));
});

test('the advisory lists members present in every 2xx instance but not required', () => {
  const report = checkAll(document, [ok.list, ok.one].map((exchange) => ({ exchange, source: 'x' })));
  assert.deepEqual(report.advisory.map((a) => [a.schema, a.members]), [['#/components/schemas/Item', ['done', 'note']]]);
  const partial = exchange('GET', `/items/${ID}`, 200, { type: 'application/json', body: json({ id: ID, name: 'n' }) });
  const report2 = checkAll(document, [ok.list, partial].map((exchange) => ({ exchange, source: 'x' })));
  assert.deepEqual(report2.advisory, []);
});

test('the command exits 1 on a violation and 0 on a clean log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-test-'));
  const clean = join(dir, 'clean.jsonl');
  const dirty = join(dir, 'dirty.jsonl');
  writeFileSync(clean, Object.values(ok).map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(dirty, `${JSON.stringify(ok.list)}\n${JSON.stringify(exchange('GET', '/items', 500))}\n`);
  const cli = join(here, '..', 'conformance.mjs');
  const good = spawnSync(process.execPath, [cli, documentPath, clean], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /No violations/);
  const bad = spawnSync(process.execPath, [cli, documentPath, clean, dirty], { encoding: 'utf8' });
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /GET \/items -> 500/);
  assert.match(bad.stdout, /undocumented status/);
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  assert.equal(spawnSync(process.execPath, [cli, documentPath, empty], { encoding: 'utf8' }).status, 2);
});
