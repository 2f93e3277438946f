import { z } from 'zod';
import { type AmountReader, amountReader } from './amountCell.ts';
import { ADDRESS_FIELDS } from './fields.ts';
import type { Column } from './header.ts';
import { multifieldCellParser } from './multifieldCells.ts';
import { DEFAULT_VALUE_OPTIONS, listSeparator, scalarParser, splitsValues, type ValueOptions } from './scalarParser.ts';
import { TITLE_CLEAR_REFUSAL } from './titleCell.ts';
import { Bad, type CellValue, listOf, parseString } from './values/parser.ts';

/** How one (non-ID) column's cells become a field value, worked out once per header. */
export interface ColumnPlan {
  index: number;
  header: string;
  code: string;
  /** Multifield VALUE_TYPE, or undefined for scalar fields. */
  valueType?: string;
  /** For the clear marker on a multifield column: `PHONE:MOBILE`. */
  clearKey?: string;
  /**
   * Scalar fields: one value, or a list (CONTACT_IDS, multiple user fields); multifields: a list of VALUEs.
   * Undefined for plain strings: the trimmed cell is the value, there is nothing to check.
   */
  schema: z.ZodType<unknown, string> | undefined;
  /** An ADDRESS_* field (a row setting some but not all of them gets a warning). */
  address: boolean;
  /** Why the clear marker may not empty this column (TITLE: the portal requires it), if it may not. */
  clearRefusal?: string;
  /** A single amount (OPPORTUNITY, a custom double): read by amountCell.ts (decimal mark, rounding, currency sign) instead of `schema`. */
  amount?: AmountReader;
}

/** How one column is read, with the run's value options (the decided decimal mark, the order of slash dates). */
export function planColumn(column: Column, values: ValueOptions = DEFAULT_VALUE_OPTIONS): ColumnPlan {
  const { index, header, code, spec, valueType } = column;
  const address = ADDRESS_FIELDS.includes(code);
  if (valueType !== undefined) {
    return {
      index,
      header,
      code,
      valueType,
      clearKey: `${code}:${valueType}`,
      schema: zodFrom(multifieldCellParser(code, valueType)),
      address,
    };
  }
  const parse = scalarParser(spec, values);
  if (code === 'TITLE') return { index, header, code, schema: zodFrom(parse), address, clearRefusal: TITLE_CLEAR_REFUSAL };
  if (spec.type === 'double' && !spec.multiple && !spec.items?.length) {
    return { index, header, code, schema: undefined, address, amount: amountReader(spec, values.decimalMark) };
  }
  // Types we do not know (money, file, crm bindings…) pass through whole, even when multiple.
  if (!splitsValues(spec)) {
    return { index, header, code, schema: parse === parseString ? undefined : zodFrom(parse), address };
  }
  return { index, header, code, schema: zodFrom(listOf(parse, listSeparator(spec.type))), address };
}

/**
 * The cells a file's decimal mark is decided from (decideDecimalMark): its amount columns (double fields, custom
 * ones included). For a pre-scan of the file before compileRows.
 */
export function amountIndexes(columns: readonly Column[]): number[] {
  return columns.filter((c) => c.valueType === undefined && c.spec.type === 'double').map((c) => c.index);
}

/**
 * One cell parser → a zod schema whose issue message is the parser's reason. A `check` that rewrites the
 * value in place (as zod's own `overwrite` does) costs less than half of a `transform` pipe on this hot path.
 */
export function zodFrom(parse: (v: string) => CellValue | Bad): z.ZodType<unknown, string> {
  return z.string().check((ctx) => {
    const r = parse(ctx.value);
    if (r instanceof Bad) ctx.issues.push({ code: 'custom', message: r.reason, input: ctx.value });
    else (ctx as { value: unknown }).value = r;
  });
}
