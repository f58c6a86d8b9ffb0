/**
 * DynamoDB through the document client: items by (pk, sk), the subset of condition and update
 * expressions the ledger uses, a query by partition key, and the ledger's one index
 * (`byResponseId`). An expression outside that subset fails loudly.
 */
import type * as ddb from '@aws-sdk/lib-dynamodb';
import { awsError, notModelled, type ServiceHandlers, type SimState } from '../core';

function key(k: Record<string, unknown>): string {
  return `${String(k.pk)}|${String(k.sk)}`;
}

function ddbGet(s: SimState, input: ddb.GetCommandInput) {
  const item = s.items.get(key(input.Key as Record<string, unknown>));
  return { Item: item ? structuredClone(item) : undefined };
}

function ddbPut(s: SimState, input: ddb.PutCommandInput) {
  const item = input.Item as Record<string, unknown>;
  const k = key(item);
  if (input.ConditionExpression && !condition(input.ConditionExpression, s.items.get(k), input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {})) {
    throw awsError('ConditionalCheckFailedException');
  }
  s.items.set(k, structuredClone(item));
  return {};
}

function ddbQuery(s: SimState, input: ddb.QueryCommandInput) {
  if (input.IndexName) return ddbQueryIndex(s, input);
  if (input.KeyConditionExpression !== 'pk = :pk') throw notModelled(`key condition ${input.KeyConditionExpression} not modelled`);
  const pk = (input.ExpressionAttributeValues as Record<string, unknown>)[':pk'];
  const items = [...s.items.values()].filter((i) => i.pk === pk).sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
  return { Items: structuredClone(items) };
}

/** The condition-expression subset the ledger uses: OR of attribute_(not_)exists, NOT contains, =, <, IN, and one parenthesised AND. */
function condition(expr: string, item: Record<string, unknown> | undefined, names: Record<string, string>, values: Record<string, unknown>): boolean {
  const read = (p: string) => p.trim().split('.').map((x) => names[x] ?? x).reduce<unknown>((o, x) => (o as Record<string, unknown> | undefined)?.[x], item);
  const operand = (t: string) => (t.trim().startsWith(':') ? values[t.trim()] : read(t));
  const term = (raw: string): boolean => {
    const t = raw.trim().replace(/^\((.*)\)$/s, '$1');
    if (/ AND /.test(t)) return t.split(/ AND /).every(term);
    let m: RegExpExecArray | null;
    if ((m = /^attribute_not_exists\((.+)\)$/.exec(t))) return read(m[1] as string) === undefined;
    if ((m = /^attribute_exists\((.+)\)$/.exec(t))) return read(m[1] as string) !== undefined;
    if ((m = /^NOT contains\(([^,]+),\s*(:\w+)\)$/.exec(t))) {
      const v = read(m[1] as string);
      return !(v instanceof Set ? v.has(values[m[2] as string]) : Array.isArray(v) ? v.includes(values[m[2] as string]) : false);
    }
    if ((m = /^(\S+) IN \((.+)\)$/.exec(t))) return (m[2] as string).split(',').some((x) => operand(x) === read(m?.[1] as string));
    if ((m = /^(\S+) = (\S+)$/.exec(t))) return operand(m[1] as string) === operand(m[2] as string);
    if ((m = /^(\S+) < (\S+)$/.exec(t))) {
      const a = operand(m[1] as string);
      const b = operand(m[2] as string);
      return a !== undefined && b !== undefined && String(a) < String(b);
    }
    throw notModelled(`condition term not modelled: ${t}`);
  };
  // Split on top-level OR only.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const token of expr.split(/(\(|\)| OR )/)) {
    if (token === '(') depth++;
    if (token === ')') depth--;
    if (token === ' OR ' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += token;
  }
  parts.push(current);
  return parts.some(term);
}

function ddbUpdate(s: SimState, input: ddb.UpdateCommandInput) {
  const k = key(input.Key as Record<string, unknown>);
  const old = s.items.get(k);
  const names = input.ExpressionAttributeNames ?? {};
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  if (input.ConditionExpression && !condition(input.ConditionExpression, old, names, values)) {
    throw awsError('ConditionalCheckFailedException');
  }
  const item: Record<string, unknown> = old ? structuredClone(old) : { ...(input.Key as Record<string, unknown>) };
  const path = (p: string) => p.trim().split('.').map((x) => names[x] ?? x);
  const read = (p: string[]) => p.reduce<unknown>((o, x) => (o as Record<string, unknown> | undefined)?.[x], item);
  const write = (p: string[], v: unknown) => {
    let o = item;
    for (const x of p.slice(0, -1)) {
      if (typeof o[x] !== 'object' || o[x] === null) throw awsError('ValidationException', 'The document path provided in the update expression is invalid for update');
      o = o[x] as Record<string, unknown>;
    }
    o[p[p.length - 1] as string] = structuredClone(v);
  };
  const evaluate = (raw: string): unknown => {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^if_not_exists\(([^,]+),\s*(.+)\)$/s.exec(t))) return read(path(m[1] as string)) ?? evaluate(m[2] as string);
    if ((m = /^list_append\((.+)\)$/s.exec(t))) {
      const inner = m[1] as string;
      let depth = 0;
      let split = -1;
      for (let i = 0; i < inner.length; i++) {
        if (inner[i] === '(') depth++;
        if (inner[i] === ')') depth--;
        if (inner[i] === ',' && depth === 0) split = i;
      }
      const a = evaluate(inner.slice(0, split)) as unknown[];
      const b = evaluate(inner.slice(split + 1)) as unknown[];
      if (!Array.isArray(a) || !Array.isArray(b)) throw awsError('ValidationException', 'list_append needs two lists');
      return [...a, ...b];
    }
    if (t.startsWith(':')) return values[t];
    return read(path(t));
  };
  const expr = input.UpdateExpression as string;
  const [, setPart = '', removePart = '', addPart = ''] = /^\s*SET\s+(.*?)(?:\s+REMOVE\s+(.*?))?(?:\s+ADD\s+(.*))?$/s.exec(expr) ?? [];
  for (const attr of removePart ? removePart.split(',') : []) {
    const p = path(attr);
    const parent = p.slice(0, -1).reduce<unknown>((o, x) => (o as Record<string, unknown> | undefined)?.[x], item) as Record<string, unknown> | undefined;
    if (parent) delete parent[p[p.length - 1] as string];
  }
  // Split SET clauses on commas outside parentheses.
  const clauses: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of setPart) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      clauses.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) clauses.push(current);
  for (const clause of clauses) {
    const eq = clause.indexOf('=');
    write(path(clause.slice(0, eq)), evaluate(clause.slice(eq + 1)));
  }
  for (const clause of addPart ? addPart.split(',') : []) {
    const [attr, val] = clause.trim().split(/\s+/) as [string, string];
    const add = values[val];
    if (typeof add === 'number') {
      write(path(attr), Number(read(path(attr)) ?? 0) + add);
      continue;
    }
    const current = (read(path(attr)) as Set<unknown> | undefined) ?? new Set();
    write(path(attr), new Set([...current, ...(add as Set<unknown>)]));
  }
  s.items.set(k, item);
  if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(item) };
  return { Attributes: input.ReturnValues === 'UPDATED_OLD' && old ? old : undefined };
}

/** The ledger's one index (`byResponseId`, projection ALL): items carrying the attribute, by its value. */
function ddbQueryIndex(s: SimState, input: ddb.QueryCommandInput) {
  const m = /^(\w+) = (:\w+)$/.exec(input.KeyConditionExpression ?? '');
  if (input.IndexName !== 'byResponseId' || !m || m[1] !== 'responseId') {
    throw notModelled(`query ${input.IndexName ?? ''} ${input.KeyConditionExpression ?? ''} not modelled`);
  }
  const value = (input.ExpressionAttributeValues as Record<string, unknown>)[m[2] as string];
  const items = [...s.items.values()].filter((i) => i.responseId !== undefined && i.responseId === value);
  return { Items: structuredClone(items.slice(0, input.Limit ?? items.length)) };
}

export function dynamoDbHandlers(s: SimState): ServiceHandlers {
  return {
    Update: (i: ddb.UpdateCommandInput) => ddbUpdate(s, i),
    Put: (i: ddb.PutCommandInput) => ddbPut(s, i),
    Get: (i: ddb.GetCommandInput) => ddbGet(s, i),
    Query: (i: ddb.QueryCommandInput) => (i.IndexName ? ddbQueryIndex(s, i) : ddbQuery(s, i)),
  };
}
