/** C0 controls except tab, LF, CR; DEL; C1 controls. */
export const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');

/** A cell quoted for a message: one line, at most 80 characters. */
export function quote(v: string): string {
  let s = v.length > 80 ? `${v.slice(0, 79)}…` : v;
  if (s.includes('\n') || s.includes('\r')) s = s.replace(/\r\n|\r|\n/g, '\\n');
  // Messages land in report cells: show control characters, do not copy them.
  if (CONTROL.test(s)) s = s.replace(CONTROL_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return `"${s}"`;
}
