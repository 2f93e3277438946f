/**
 * Rounding a plain decimal text (`-10.005`) to `places` decimals, half away from zero, on the digits as written:
 * what a MySQL DECIMAL column does with the text it is given (OPPORTUNITY is DECIMAL(18,2)) and what PHP's
 * round() does for such values. Binary floats would not do: 1.005 is 1.00499… as a double, and toFixed(2)
 * gives 1.00 where the portal stores 1.01.
 */
export function roundDecimal(text: string, places: number): string {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return text;
  const [, minus, int, frac = ''] = m;
  if (frac.length <= places) return text;
  const digits = (int + frac.slice(0, places)).split('').map(Number);
  if (Number(frac[places]) >= 5) {
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === 9) digits[i--] = 0;
    if (i < 0) digits.unshift(1);
    else digits[i]++;
  }
  const all = digits.join('');
  const head = all.slice(0, all.length - places).replace(/^0+(?=\d)/, '') || '0';
  const tail = places > 0 ? all.slice(all.length - places).replace(/0+$/, '') : '';
  const out = tail ? `${head}.${tail}` : head;
  return minus && /[1-9]/.test(out) ? `-${out}` : out;
}
