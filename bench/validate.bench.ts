/**
 * Throughput of the rows → payloads step alone (resolveHeader once, compileRows per row), on a realistic
 * 12-column row. Run: npx tsx bench/validate.bench.ts [rows]
 */
import { parseRunOptions } from '../lambda/config.ts';
import { standardCatalogue } from '../lambda/payloads/fields.ts';
import { resolveHeader } from '../lambda/payloads/header.ts';
import { compileRows } from '../lambda/payloads/compile.ts';
import type { SourceRecord } from '../lambda/types.ts';

const header = [
  'ID',
  'TITLE',
  'NAME',
  'LAST_NAME',
  'EMAIL',
  'PHONE_MOBILE',
  'STATUS_ID',
  'OPPORTUNITY',
  'CURRENCY_ID',
  'BIRTHDATE',
  'OPENED',
  'UF_CRM_X',
];
const catalogue = standardCatalogue();
const columns = resolveHeader(header, { mapping: {}, catalogue });
const check = compileRows(columns, parseRunOptions({}), catalogue, header.length);

// Distinct rows so nothing is accidentally cached; a few invalid ones, as real files have.
const rows: SourceRecord[] = [];
for (let i = 0; i < 10_000; i++) {
  const cells = [
    String(1000 + i),
    `Lead ${i} from the autumn campaign`,
    i % 3 ? 'Ivan' : 'Мария',
    `Petrov${i}`,
    i % 97 === 0 ? `user${i}@` : `user${i}@example.com`,
    `+7 (912) ${String(100 + (i % 900))}-${String(10 + (i % 90))}-${String(10 + ((i * 7) % 90))}`,
    i % 2 ? 'NEW' : 'IN_PROCESS',
    i % 4 ? `${i * 3},50` : `1 ${String(i % 1000).padStart(3, '0')},00`,
    i % 2 ? 'RUB' : 'usd',
    `${String(1 + (i % 28)).padStart(2, '0')}.0${1 + (i % 9)}.19${50 + (i % 50)}`,
    i % 2 ? 'Y' : 'yes',
    i % 5 ? '' : `note ${i}`,
  ];
  rows.push({ line: i + 2, cells, raw: cells.join(','), start: 0, end: 0 });
}

const total = Number(process.argv[2] ?? 1_000_000);
let ok = 0;
// Warm up the JIT before timing.
for (let i = 0; i < 50_000; i++) check(rows[i % rows.length]);
const t0 = process.hrtime.bigint();
for (let i = 0; i < total; i++) if (check(rows[i % rows.length]).ok) ok++;
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(`compileRows: ${total} rows in ${ms.toFixed(0)} ms = ${Math.round((total / ms) * 1000)} rows/s (${ok} valid)`);
