import { expect } from 'vitest';
import { parseRunOptions, type RunOptionsInput } from '../../lambda/config.ts';
import { standardCatalogue } from '../../lambda/payloads/fields.ts';
import { resolveHeader } from '../../lambda/payloads/header.ts';
import { compileRows } from '../../lambda/payloads/compile.ts';
import type { Catalogue, RowOutcome, ValidRow } from '../../lambda/types.ts';

/** A row checker for one header, the way the engine builds it. */
export function checker(header: string[], opts: RunOptionsInput = {}, catalogue: Catalogue = standardCatalogue()) {
  const options = parseRunOptions(opts);
  const columns = resolveHeader(header, { mapping: options.mapping, catalogue });
  const check = compileRows(columns, options, catalogue, header.length);
  let line = 1;
  return (cells: string[], at = ++line) => check({ line: at, cells, raw: cells.join(','), start: 0, end: 0 });
}

export function valid(r: ReturnType<ReturnType<typeof checker>>): ValidRow {
  if (!r.ok) throw new Error(`expected a valid row, got: ${r.outcome.errorCode} ${r.outcome.message}`);
  return r.row;
}

export function invalid(r: ReturnType<ReturnType<typeof checker>>): RowOutcome {
  if (r.ok) throw new Error(`expected an invalid row, got fields ${JSON.stringify(r.row.fields)}`);
  expect(r.outcome.status).toBe('invalid');
  expect(r.outcome.attempts).toBe(0);
  return r.outcome;
}
