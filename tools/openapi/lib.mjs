// The conformance checker's logic (see README.md): each recorded exchange (one JSON line written by
// tests/support/conformance_log.cpp) is checked against an OpenAPI 3.1 document. No I/O here, so
// that test/conformance.test.mjs can drive it with a fixture document and fixture exchanges.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SCHEMA_ID = 'urn:ikigai:openapi';

// Fixed rules for what the document does not describe per operation; README.md states them.
export const RULES = {
  unknownPath: 'A path that matches no path template must be answered 404 with an application/problem+json body.',
  methodNotAllowed:
    'A known path with a method its path item lacks must be answered 405 with an Allow header naming exactly the ' +
    "path's documented methods (HEAD with GET, and OPTIONS, may be added), and every operation of that path must document 405.",
  options:
    'OPTIONS on a path whose path item has no options operation (a CORS preflight) must be answered 204 or 200 ' +
    'with an empty body; on an unknown path the 404 rule applies.',
  head: 'HEAD on a path item without a head operation is checked as its GET (status, headers, content type) with an empty body.',
};

// ---------------------------------------------------------------------------------------------
// Document preparation

const clone = (value) => structuredClone(value);

function decodePointerToken(token) {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function resolvePointer(document, ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
  let node = document;
  for (const token of ref.slice(2).split('/').map(decodePointerToken)) {
    if (node === undefined || node === null) break;
    node = node[token];
  }
  if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  return node;
}

// A Response, Header or Parameter object, following $refs (not schemas: Ajv resolves those).
function deref(document, object) {
  let node = object;
  for (let hops = 0; node && typeof node.$ref === 'string' && hops < 32; ++hops) node = resolvePointer(document, node.$ref);
  return node;
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

// Makes undocumented members violations: every object schema with `properties` and neither
// `additionalProperties` nor `unevaluatedProperties` gets `unevaluatedProperties: false`. A schema
// with allOf gets it on the allOf parent instead of its branches (a branch cannot see its
// siblings' members), and a `$ref` branch of an allOf is replaced by an open copy of its target.
function strictify(original, schema, allOfBranch) {
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string' && allOfBranch) {
    const target = resolvePointer(original, schema.$ref);
    const { $ref, ...siblings } = schema;
    return strictify(original, { ...clone(target), ...siblings }, true);
  }
  for (const key of ['properties', 'patternProperties', '$defs', 'dependentSchemas']) {
    if (isObject(schema[key])) {
      for (const name of Object.keys(schema[key])) schema[key][name] = strictify(original, schema[key][name], false);
    }
  }
  for (const key of ['items', 'additionalProperties', 'unevaluatedProperties', 'not', 'if', 'then', 'else', 'contains',
    'propertyNames', 'unevaluatedItems']) {
    if (isObject(schema[key])) schema[key] = strictify(original, schema[key], false);
  }
  for (const key of ['prefixItems', 'anyOf', 'oneOf']) {
    if (Array.isArray(schema[key])) schema[key] = schema[key].map((branch) => strictify(original, branch, false));
  }
  const open = !hasOwn(schema, 'additionalProperties') && !hasOwn(schema, 'unevaluatedProperties');
  if (Array.isArray(schema.allOf)) {
    schema.allOf = schema.allOf.map((branch) => strictify(original, branch, true));
    const branchHasMembers = schema.allOf.some((branch) => isObject(branch) && isObject(branch.properties));
    if (open && !allOfBranch && (branchHasMembers || isObject(schema.properties))) schema.unevaluatedProperties = false;
    return schema;
  }
  if (open && !allOfBranch && isObject(schema.properties)) schema.unevaluatedProperties = false;
  return schema;
}

// Every `schema` of a media type, header or parameter outside components.schemas.
function forEachEmbeddedSchema(node, visit) {
  if (Array.isArray(node)) {
    node.forEach((item) => forEachEmbeddedSchema(item, visit));
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'schema' && isObject(value)) node[key] = visit(value);
    else if (key !== 'example' && key !== 'examples') forEachEmbeddedSchema(value, visit);
  }
}

function rewriteRefs(node) {
  if (Array.isArray(node)) return node.forEach(rewriteRefs);
  if (!isObject(node)) return undefined;
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/schemas/')) {
    node.$ref = `${SCHEMA_ID}#/$defs/${node.$ref.slice('#/components/schemas/'.length)}`;
  }
  for (const value of Object.values(node)) rewriteRefs(value);
  return undefined;
}

export function prepare(document) {
  const original = clone(document);
  const strict = clone(document);
  const schemas = strict.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) schemas[name] = strictify(original, schemas[name], false);
  forEachEmbeddedSchema(strict.paths ?? {}, (schema) => strictify(original, schema, false));
  for (const part of ['responses', 'headers', 'parameters', 'requestBodies']) {
    forEachEmbeddedSchema(strict.components?.[part] ?? {}, (schema) => strictify(original, schema, false));
  }
  rewriteRefs(strict);

  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
  addFormats(ajv);
  // OpenAPI's own keywords and formats, which JSON Schema 2020-12 does not define.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('password', true);
  ajv.addSchema({ $id: SCHEMA_ID, $defs: schemas });

  const templates = [];
  const serverPrefix = (() => {
    const url = document.servers?.[0]?.url ?? '/';
    const path = url.startsWith('/') ? url : new URL(url).pathname;
    return path.replace(/\/+$/, '');
  })();
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    templates.push({
      template,
      item,
      strictItem: strict.paths[template],
      segments: template.split('/').slice(1).map((s) => (/^\{[^}]+\}$/.test(s) ? null : s)),
    });
  }
  const cache = new Map();
  const compile = (schema, key) => {
    if (!cache.has(key)) {
      try {
        cache.set(key, { validate: ajv.compile(schema) });
      } catch (error) {
        cache.set(key, { error: error.message });
      }
    }
    return cache.get(key);
  };
  return { document, strict, templates, serverPrefix, compile };
}

// ---------------------------------------------------------------------------------------------
// Matching

export function matchPath(prepared, path) {
  let rest = path;
  if (prepared.serverPrefix && rest.startsWith(prepared.serverPrefix)) rest = rest.slice(prepared.serverPrefix.length);
  const segments = rest.split('/').slice(1);
  let best = null;
  for (const candidate of prepared.templates) {
    if (candidate.segments.length !== segments.length) continue;
    let ok = true;
    const score = [];
    for (let i = 0; i < segments.length && ok; ++i) {
      const literal = candidate.segments[i];
      if (literal === null) {
        ok = segments[i] !== '';
        score.push(0);
      } else {
        ok = literal === segments[i];
        score.push(1);
      }
    }
    if (!ok) continue;
    // Literal segments win over {param}, leftmost first.
    if (!best || compareScores(score, best.score) > 0) best = { ...candidate, score };
  }
  return best;
}

function compareScores(a, b) {
  for (let i = 0; i < a.length; ++i) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const documentedMethods = (item) => METHODS.filter((m) => isObject(item[m]));

function pickResponse(responses, status) {
  if (!isObject(responses)) return null;
  const exact = String(status);
  if (hasOwn(responses, exact)) return exact;
  const range = `${exact[0]}XX`;
  for (const key of Object.keys(responses)) if (key.toUpperCase() === range) return key;
  if (hasOwn(responses, 'default')) return 'default';
  return null;
}

const mediaTypeOf = (value) => (value ?? '').split(';')[0].trim().toLowerCase();
const isJsonMedia = (media) => media === 'application/json' || /^application\/[^/]+\+json$/.test(media);

function matchContent(content, media) {
  if (!isObject(content)) return null;
  for (const key of Object.keys(content)) if (mediaTypeOf(key) === media) return key;
  const [type] = media.split('/');
  for (const key of Object.keys(content)) if (mediaTypeOf(key) === `${type}/*`) return key;
  if (hasOwn(content, '*/*')) return '*/*';
  return null;
}

function header(exchange, name) {
  const values = exchange.headers?.[name.toLowerCase()];
  return Array.isArray(values) ? values : values === undefined ? [] : [String(values)];
}

// ---------------------------------------------------------------------------------------------
// Checking one exchange

function pathOnly(path) {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function bodyStart(exchange) {
  if (exchange.body_skipped) return `<${exchange.body_skipped}, ${exchange.body_size} bytes>`;
  const body = exchange.body ?? '';
  return body.length > 300 ? `${body.slice(0, 300)}…` : body;
}

function ajvMessage(error) {
  const where = error.instancePath || '/';
  switch (error.keyword) {
    case 'unevaluatedProperties':
    case 'additionalProperties': {
      const member = error.params.unevaluatedProperty ?? error.params.additionalProperty;
      return { kind: 'undocumented member', detail: `${where === '/' ? '' : where}/${member}` };
    }
    case 'required':
      return { kind: 'missing required member', detail: `${where === '/' ? '' : where}/${error.params.missingProperty}` };
    case 'type':
      return { kind: 'type', detail: `${where} ${error.message}` };
    case 'format':
      return { kind: 'format', detail: `${where} ${error.message}` };
    case 'enum':
    case 'const':
      return { kind: 'enum/const', detail: `${where} ${error.message}${error.params.allowedValues ? `: ${JSON.stringify(error.params.allowedValues)}` : ''}` };
    default:
      return { kind: `schema (${error.keyword})`, detail: `${where} ${error.message}` };
  }
}

// Array indices become *, so that one member missing from 50 list items is one group.
const normaliseDetail = (detail) => detail.replace(/\/\d+(?=\/|$| )/g, '/*');

export function checkExchange(prepared, exchange) {
  const violations = [];
  const add = (kind, detail = '') => violations.push({ kind, detail });
  const method = String(exchange.method ?? '').toUpperCase();
  const status = Number(exchange.status);
  const path = pathOnly(exchange.path ?? '');
  const match = matchPath(prepared, path);
  const media = mediaTypeOf(header(exchange, 'content-type')[0]);
  const body = exchange.body ?? '';
  const result = { template: match?.template ?? '(unknown path)', operation: null, responseKey: null, violations };

  if (!match) {
    if (status !== 404) add('unknown path not 404', `answered ${status}`);
    else if (media !== 'application/problem+json') add('unknown path not 404', `404 with content type "${media}"`);
    else checkProblem(prepared, exchange, add);
    return result;
  }
  const lower = method.toLowerCase();
  let operationMethod = lower;
  let bodyless = false;
  if (!isObject(match.item[lower])) {
    if (lower === 'head' && isObject(match.item.get)) {
      operationMethod = 'get';
      bodyless = true;
    } else if (lower === 'options') {
      if (!(status === 204 || status === 200)) add('options rule', `answered ${status}`);
      else if (body !== '' || exchange.body_size > 0) add('options rule', 'non-empty body');
      return result;
    } else {
      checkMethodNotAllowed(prepared, match, exchange, status, add);
      // A 405 is every operation's of the path, for coverage.
      if (status === 405) {
        result.covers = documentedMethods(match.item)
          .filter((m) => pickResponse(match.item[m].responses, 405) !== null)
          .map((m) => ({ operation: `${m.toUpperCase()} ${match.template}`, responseKey: pickResponse(match.item[m].responses, 405) }));
      }
      return result;
    }
  }
  result.operation = `${operationMethod.toUpperCase()} ${match.template}`;
  const operation = match.item[operationMethod];
  const strictOperation = match.strictItem[operationMethod];
  const key = pickResponse(operation.responses, status);
  if (key === null) {
    add('undocumented status', `${status} is not in responses (${Object.keys(operation.responses ?? {}).join(', ')})`);
    return result;
  }
  result.responseKey = key;
  const pointer = `#/paths/${match.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${operationMethod}/responses/${key}`;
  checkResponse(prepared, exchange, {
    response: deref(prepared.document, operation.responses[key]),
    strictResponse: deref(prepared.strict, strictOperation.responses[key]),
    pointer,
    bodyless: bodyless || lower === 'head',
    media,
    add,
  });
  return result;
}

// The unknown-path 404 body: components.schemas.Problem (made strict) when the document has one.
function checkProblem(prepared, exchange, add) {
  if (!isObject(prepared.document.components?.schemas?.Problem)) return;
  let instance;
  try {
    instance = JSON.parse(exchange.body ?? '');
  } catch (error) {
    add('invalid JSON', error.message);
    return;
  }
  const compiled = prepared.compile({ $ref: `${SCHEMA_ID}#/$defs/Problem` }, 'Problem');
  if (compiled.error) add('document schema does not compile', `#/components/schemas/Problem: ${compiled.error}`);
  else if (!compiled.validate(instance)) reportAjvErrors(compiled.validate.errors, add);
}

function reportAjvErrors(errors, add) {
  const seen = new Set();
  for (const error of errors) {
    const { kind, detail } = ajvMessage(error);
    const id = `${kind} ${detail}`;
    if (!seen.has(id)) {
      seen.add(id);
      add(kind, detail);
    }
  }
}

function checkMethodNotAllowed(prepared, match, exchange, status, add) {
  const documented = documentedMethods(match.item).map((m) => m.toUpperCase());
  if (status !== 405) {
    add('405 rule', `${exchange.method} on a path documenting ${documented.join(', ')} answered ${status}, not 405`);
    return;
  }
  const allow = header(exchange, 'allow').join(',').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
  if (allow.length === 0) add('405 rule', 'no Allow header');
  else {
    const extra = allow.filter((m) => !documented.includes(m) && m !== 'OPTIONS' && !(m === 'HEAD' && documented.includes('GET')));
    const missing = documented.filter((m) => !allow.includes(m));
    if (extra.length || missing.length) {
      add('405 rule', `Allow: ${allow.join(', ')} vs documented ${documented.join(', ')}`);
    }
  }
  const undocumentedOn = documentedMethods(match.item).filter((m) => pickResponse(match.item[m].responses, 405) === null);
  if (undocumentedOn.length) {
    add('405 undocumented', `405 is not in the responses of ${undocumentedOn.map((m) => m.toUpperCase()).join(', ')} ${match.template}`);
    return;
  }
  // The 405's body is checked against the first operation's documented 405.
  const first = documentedMethods(match.item)[0];
  const key = pickResponse(match.item[first].responses, 405);
  checkResponse(prepared, exchange, {
    response: deref(prepared.document, match.item[first].responses[key]),
    strictResponse: deref(prepared.strict, match.strictItem[first].responses[key]),
    pointer: `#/paths/${match.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${first}/responses/${key}`,
    bodyless: false,
    media: mediaTypeOf(header(exchange, 'content-type')[0]),
    add,
  });
}

function checkHeaders(prepared, exchange, response, strictResponse, pointer, add) {
  for (const [name, rawHeader] of Object.entries(response.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') continue;  // OpenAPI ignores a Content-Type header entry
    const definition = deref(prepared.document, rawHeader);
    const values = header(exchange, name);
    if (values.length === 0) {
      if (definition?.required === true) add('missing required header', name);
      continue;
    }
    const strictDefinition = deref(prepared.strict, strictResponse.headers[name]);
    if (!isObject(strictDefinition?.schema) || name.toLowerCase() === 'set-cookie') continue;
    const compiled = prepared.compile(strictDefinition.schema, `${pointer}/headers/${name}`);
    if (compiled.error) {
      add('document schema does not compile', `${pointer}/headers/${name}: ${compiled.error}`);
      continue;
    }
    const types = [].concat(strictDefinition.schema.type ?? []);
    let value = values[0];
    if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) value = Number(value);
    if (!compiled.validate(value)) {
      add('header value', `${name}: ${JSON.stringify(values[0])} ${compiled.validate.errors.map((e) => e.message).join('; ')}`);
    }
  }
}

function checkResponse(prepared, exchange, { response, strictResponse, pointer, bodyless, media, add }) {
  checkHeaders(prepared, exchange, response, strictResponse, pointer, add);
  const body = exchange.body ?? '';
  // An event stream's body is not recorded (it may not have started when the head was logged).
  const hasBody = body !== '' || exchange.body_skipped === 'event_stream' ||
    (exchange.body_skipped !== undefined && exchange.body_size > 0);
  const content = response.content;
  if (!isObject(content) || Object.keys(content).length === 0) {
    if (hasBody) add('body where none is documented', `${exchange.body_size} bytes of "${media}"`);
    return;
  }
  if (!hasBody) {
    if (!bodyless) {
      add('empty body where content is documented', `documented: ${Object.keys(content).join(', ')}`);
      return;
    }
  }
  const contentKey = matchContent(content, media);
  if (contentKey === null) {
    add('wrong content type', `"${header(exchange, 'content-type')[0] ?? ''}" is not one of ${Object.keys(content).join(', ')}`);
    return;
  }
  if (bodyless || exchange.body_skipped === 'event_stream' || exchange.body_skipped === 'too_large') return;
  if (exchange.body_skipped === 'not_utf8') {
    add('body not UTF-8', media);
    return;
  }
  const schema = strictResponse.content[contentKey]?.schema;
  if (!isObject(schema)) return;
  let instance = body;
  if (isJsonMedia(media)) {
    try {
      instance = JSON.parse(body);
    } catch (error) {
      add('invalid JSON', error.message);
      return;
    }
  }
  const compiled = prepared.compile(schema, `${pointer}/content/${contentKey}`);
  if (compiled.error) {
    add('document schema does not compile', `${pointer}/content/${contentKey}: ${compiled.error}`);
    return;
  }
  if (!compiled.validate(instance)) reportAjvErrors(compiled.validate.errors, add);
}

// ---------------------------------------------------------------------------------------------
// Advisory: members present in every observed 2xx instance of a schema but not `required` in it.

// Follows $refs and merges allOf; returns { name, properties, required } or null for other schemas.
function objectView(document, schema, name = null) {
  let node = schema;
  let schemaName = name;
  for (let hops = 0; isObject(node) && typeof node.$ref === 'string' && hops < 32; ++hops) {
    if (node.$ref.startsWith('#/components/schemas/')) schemaName = node.$ref.slice('#/components/schemas/'.length);
    node = resolvePointer(document, node.$ref);
  }
  if (!isObject(node)) return null;
  const view = { name: schemaName, properties: { ...(node.properties ?? {}) }, required: new Set(node.required ?? []), items: node.items };
  for (const branch of node.allOf ?? []) {
    const part = objectView(document, branch);
    if (!part) continue;
    Object.assign(view.properties, part.properties);
    part.required.forEach((r) => view.required.add(r));
    if (!view.name) view.name = part.name;
  }
  return view;
}

function observe(document, schema, instance, where, sink) {
  const view = objectView(document, schema);
  if (!view) return;
  if (Array.isArray(instance)) {
    if (view.items) instance.forEach((item) => observe(document, view.items, item, `${where}[]`, sink));
    return;
  }
  if (!isObject(instance) || Object.keys(view.properties).length === 0) return;
  const id = view.name ? `#/components/schemas/${view.name}` : where;
  let entry = sink.get(id);
  if (!entry) {
    entry = { schema: id, seen: 0, present: null, required: view.required, properties: view.properties, usedAt: new Set() };
    sink.set(id, entry);
  }
  entry.seen += 1;
  entry.usedAt.add(where);
  const keys = new Set(Object.keys(instance).filter((k) => hasOwn(view.properties, k)));
  entry.present = entry.present === null ? keys : new Set([...entry.present].filter((k) => keys.has(k)));
  for (const [member, value] of Object.entries(instance)) {
    if (hasOwn(view.properties, member) && value !== null) observe(document, view.properties[member], value, `${where}.${member}`, sink);
  }
}

// ---------------------------------------------------------------------------------------------
// The whole run

export function checkAll(document, exchanges) {
  const prepared = prepare(document);
  const groups = new Map();
  const exercised = new Map();
  const advisorySink = new Map();
  const alsoSeen = new Set();  // "<operation> 405" seen through another method of the path
  let violationCount = 0;
  let skippedBodies = 0;
  for (const { exchange, source } of exchanges) {
    const result = checkExchange(prepared, exchange);
    if (exchange.body_skipped === 'too_large') skippedBodies += 1;
    if (result.operation) {
      if (!exercised.has(result.operation)) exercised.set(result.operation, new Set());
      if (result.responseKey) exercised.get(result.operation).add(result.responseKey);
    }
    for (const { operation, responseKey } of result.covers ?? []) alsoSeen.add(`${operation} ${responseKey}`);
    for (const violation of result.violations) {
      violationCount += 1;
      const groupKey = `${exchange.method} ${result.template} ${exchange.status}`;
      if (!groups.has(groupKey)) {
        groups.set(groupKey, { method: exchange.method, template: result.template, status: exchange.status, count: 0, kinds: new Map() });
      }
      const group = groups.get(groupKey);
      group.count += 1;
      const kindKey = `${violation.kind}\u0000${normaliseDetail(violation.detail)}`;
      if (!group.kinds.has(kindKey)) {
        group.kinds.set(kindKey, {
          kind: violation.kind,
          detail: normaliseDetail(violation.detail),
          count: 0,
          example: { source, path: exchange.path, status: exchange.status, contentType: header(exchange, 'content-type')[0] ?? '', body: bodyStart(exchange) },
        });
      }
      group.kinds.get(kindKey).count += 1;
    }
    // Advisory over clean 2xx JSON bodies of documented operations.
    if (result.operation && result.violations.length === 0 && exchange.status >= 200 && exchange.status < 300 &&
        typeof exchange.body === 'string' && exchange.body !== '' && isJsonMedia(mediaTypeOf(header(exchange, 'content-type')[0]))) {
      const [m, template] = [result.operation.split(' ')[0].toLowerCase(), result.template];
      const response = deref(document, document.paths[template][m].responses[result.responseKey]);
      const contentKey = matchContent(response.content, mediaTypeOf(header(exchange, 'content-type')[0]));
      const schema = contentKey && response.content[contentKey].schema;
      if (schema) {
        try {
          observe(document, schema, JSON.parse(exchange.body), `${result.operation} ${exchange.status}`, advisorySink);
        } catch {
          // not JSON: already a violation elsewhere
        }
      }
    }
  }

  const coverage = { neverExercised: [], statusesNeverSeen: [] };
  for (const { template, item } of prepared.templates) {
    for (const m of documentedMethods(item)) {
      const op = `${m.toUpperCase()} ${template}`;
      if (!exercised.has(op)) coverage.neverExercised.push(op);
      else {
        const unseen = Object.keys(item[m].responses ?? {}).filter((k) => !exercised.get(op).has(k) && !alsoSeen.has(`${op} ${k}`));
        if (unseen.length) coverage.statusesNeverSeen.push({ operation: op, statuses: unseen });
      }
    }
  }
  const advisory = [];
  for (const entry of advisorySink.values()) {
    const always = [...(entry.present ?? [])].filter((k) => !entry.required.has(k)).sort();
    if (always.length) advisory.push({ schema: entry.schema, seen: entry.seen, members: always, usedAt: [...entry.usedAt].sort() });
  }
  advisory.sort((a, b) => a.schema.localeCompare(b.schema));
  const byKind = {};
  for (const group of groups.values()) for (const k of group.kinds.values()) byKind[k.kind] = (byKind[k.kind] ?? 0) + k.count;
  return {
    exchanges: exchanges.length,
    violationCount,
    byKind,
    groups: [...groups.values()].map((g) => ({ ...g, kinds: [...g.kinds.values()] }))
      .sort((a, b) => a.template.localeCompare(b.template) || a.method.localeCompare(b.method) || a.status - b.status),
    coverage,
    advisory,
    skippedBodies,
  };
}
